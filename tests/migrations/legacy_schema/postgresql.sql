--
-- PostgreSQL database dump (pg_dump --schema-only, PostgreSQL 15; see README.md)
--

--
-- Name: hubspot_take_rate_slot(integer, integer, text, integer, double precision, bigint[]); Type: FUNCTION
--

CREATE FUNCTION hubspot_take_rate_slot(p_ns integer, p_lock integer, p_key text, p_max integer, p_interval double precision, p_answered bigint[]) RETURNS TABLE(slot_id bigint, wait_s double precision)
    LANGUAGE plpgsql
    AS $$
DECLARE
  v_now float8;
  v_count int;
  v_oldest float8;
  v_blocked float8;
  v_wait float8;
BEGIN
  PERFORM pg_advisory_xact_lock(p_ns, p_lock);
  v_now := extract(epoch from clock_timestamp());
  IF cardinality(p_answered) > 0 THEN
    UPDATE hubspot_rate_slots SET taken_at = v_now WHERE id = ANY(p_answered);
  END IF;
  SELECT count(*), min(taken_at) INTO v_count, v_oldest FROM hubspot_rate_slots
   WHERE budget_key = p_key AND taken_at > v_now - p_interval;
  SELECT blocked_until INTO v_blocked FROM hubspot_rate_blocks WHERE budget_key = p_key;
  v_wait := coalesce(v_blocked, 0) - v_now;
  IF v_count >= p_max THEN
    v_wait := greatest(v_wait, v_oldest + p_interval - v_now);
  END IF;
  IF v_wait > 0 THEN
    RETURN QUERY SELECT NULL::bigint, v_wait;
  ELSE
    RETURN QUERY INSERT INTO hubspot_rate_slots AS s (budget_key, taken_at) VALUES (p_key, v_now)
                 RETURNING s.id, 0::float8;
  END IF;
END
$$;

--
-- Name: hubspot_install_states; Type: TABLE
--

CREATE TABLE hubspot_install_states (
    nonce character varying(64) NOT NULL,
    used_at double precision NOT NULL
);

--
-- Name: hubspot_oauth_tokens; Type: TABLE
--

CREATE TABLE hubspot_oauth_tokens (
    origin character varying(64) NOT NULL,
    ciphertext text NOT NULL,
    updated_at timestamp with time zone NOT NULL
);

--
-- Name: hubspot_portals; Type: TABLE
--

CREATE TABLE hubspot_portals (
    portal_id bigint NOT NULL,
    library character varying(64) NOT NULL,
    ciphertext text,
    token_state character varying(16) NOT NULL,
    state_reason text,
    connected_at double precision NOT NULL,
    updated_at double precision NOT NULL,
    last_sync_at double precision,
    generation integer DEFAULT 1 NOT NULL
);

--
-- Name: hubspot_rate_blocks; Type: TABLE
--

CREATE TABLE hubspot_rate_blocks (
    budget_key character varying(64) NOT NULL,
    blocked_until double precision NOT NULL
);

--
-- Name: hubspot_rate_slots; Type: TABLE
--

CREATE TABLE hubspot_rate_slots (
    id bigint NOT NULL,
    budget_key character varying(64) NOT NULL,
    taken_at double precision NOT NULL
);

--
-- Name: hubspot_rate_slots_id_seq; Type: SEQUENCE
--

CREATE SEQUENCE hubspot_rate_slots_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: hubspot_rate_slots_id_seq; Type: SEQUENCE OWNED BY
--

ALTER SEQUENCE hubspot_rate_slots_id_seq OWNED BY hubspot_rate_slots.id;

--
-- Name: jobs; Type: TABLE
--

CREATE TABLE jobs (
    id bigint NOT NULL,
    kind character varying(64) NOT NULL,
    portal_id bigint,
    priority smallint DEFAULT '100'::smallint NOT NULL,
    payload text NOT NULL,
    state character varying(16) DEFAULT 'queued'::character varying NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at double precision NOT NULL,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL,
    dedupe_key character varying(128),
    last_error text,
    lease_owner character varying(64),
    lease_until double precision
);

--
-- Name: jobs_id_seq; Type: SEQUENCE
--

CREATE SEQUENCE jobs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: jobs_id_seq; Type: SEQUENCE OWNED BY
--

ALTER SEQUENCE jobs_id_seq OWNED BY jobs.id;

--
-- Name: media_items; Type: TABLE
--

CREATE TABLE media_items (
    id integer NOT NULL,
    external_id character varying(255) NOT NULL,
    media_type character varying(16) NOT NULL,
    title text NOT NULL,
    file_url text,
    thumbnail_url text,
    thumbnail_width integer,
    thumbnail_height integer,
    poster_url text,
    duration_ms bigint,
    width integer,
    height integer,
    folder_path text,
    details_page_link text,
    author_name text,
    author_url text,
    visibility character varying(16) DEFAULT 'public'::character varying NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    hubspot_object_id character varying(64),
    captions text,
    stream_url text,
    library character varying(64)
);

--
-- Name: media_items_id_seq; Type: SEQUENCE
--

CREATE SEQUENCE media_items_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: media_items_id_seq; Type: SEQUENCE OWNED BY
--

ALTER SEQUENCE media_items_id_seq OWNED BY media_items.id;

--
-- Name: module_push_records; Type: TABLE
--

CREATE TABLE module_push_records (
    key character varying(600) NOT NULL,
    sha256 character varying(64) NOT NULL,
    remote_updated_at character varying(64)
);

--
-- Name: play_sessions; Type: TABLE
--

CREATE TABLE play_sessions (
    id bigint NOT NULL,
    session_id character varying(64) NOT NULL,
    external_id character varying(255) NOT NULL,
    media_type character varying(16) NOT NULL,
    portal_id bigint,
    contact_utk character varying(128),
    page_id character varying(64),
    page_name text,
    page_url text,
    hsenc text,
    external_play_context character varying(16),
    state character varying(16),
    started_at_ms bigint,
    started_day character varying(10),
    reports integer DEFAULT 1 NOT NULL,
    spans text,
    span_seconds double precision,
    duration_seconds double precision,
    percent_played double precision,
    attention_at_ms bigint,
    first_seen_at double precision NOT NULL,
    last_seen_at double precision NOT NULL,
    closed_at double precision
);

--
-- Name: play_sessions_id_seq; Type: SEQUENCE
--

CREATE SEQUENCE play_sessions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: play_sessions_id_seq; Type: SEQUENCE OWNED BY
--

ALTER SEQUENCE play_sessions_id_seq OWNED BY play_sessions.id;

--
-- Name: provisioning_marks; Type: TABLE
--

CREATE TABLE provisioning_marks (
    name character varying(64) NOT NULL,
    value character varying(128) NOT NULL,
    updated_at double precision NOT NULL
);

--
-- Name: hubspot_rate_slots id; Type: DEFAULT
--

ALTER TABLE ONLY hubspot_rate_slots ALTER COLUMN id SET DEFAULT nextval('hubspot_rate_slots_id_seq'::regclass);

--
-- Name: jobs id; Type: DEFAULT
--

ALTER TABLE ONLY jobs ALTER COLUMN id SET DEFAULT nextval('jobs_id_seq'::regclass);

--
-- Name: media_items id; Type: DEFAULT
--

ALTER TABLE ONLY media_items ALTER COLUMN id SET DEFAULT nextval('media_items_id_seq'::regclass);

--
-- Name: play_sessions id; Type: DEFAULT
--

ALTER TABLE ONLY play_sessions ALTER COLUMN id SET DEFAULT nextval('play_sessions_id_seq'::regclass);

--
-- Name: hubspot_install_states hubspot_install_states_pkey; Type: CONSTRAINT
--

ALTER TABLE ONLY hubspot_install_states
    ADD CONSTRAINT hubspot_install_states_pkey PRIMARY KEY (nonce);

--
-- Name: hubspot_oauth_tokens hubspot_oauth_tokens_pkey; Type: CONSTRAINT
--

ALTER TABLE ONLY hubspot_oauth_tokens
    ADD CONSTRAINT hubspot_oauth_tokens_pkey PRIMARY KEY (origin);

--
-- Name: hubspot_portals hubspot_portals_pkey; Type: CONSTRAINT
--

ALTER TABLE ONLY hubspot_portals
    ADD CONSTRAINT hubspot_portals_pkey PRIMARY KEY (portal_id);

--
-- Name: hubspot_rate_blocks hubspot_rate_blocks_pkey; Type: CONSTRAINT
--

ALTER TABLE ONLY hubspot_rate_blocks
    ADD CONSTRAINT hubspot_rate_blocks_pkey PRIMARY KEY (budget_key);

--
-- Name: hubspot_rate_slots hubspot_rate_slots_pkey; Type: CONSTRAINT
--

ALTER TABLE ONLY hubspot_rate_slots
    ADD CONSTRAINT hubspot_rate_slots_pkey PRIMARY KEY (id);

--
-- Name: jobs jobs_dedupe_key_key; Type: CONSTRAINT
--

ALTER TABLE ONLY jobs
    ADD CONSTRAINT jobs_dedupe_key_key UNIQUE (dedupe_key);

--
-- Name: jobs jobs_pkey; Type: CONSTRAINT
--

ALTER TABLE ONLY jobs
    ADD CONSTRAINT jobs_pkey PRIMARY KEY (id);

--
-- Name: media_items media_items_external_id_key; Type: CONSTRAINT
--

ALTER TABLE ONLY media_items
    ADD CONSTRAINT media_items_external_id_key UNIQUE (external_id);

--
-- Name: media_items media_items_pkey; Type: CONSTRAINT
--

ALTER TABLE ONLY media_items
    ADD CONSTRAINT media_items_pkey PRIMARY KEY (id);

--
-- Name: module_push_records module_push_records_pkey; Type: CONSTRAINT
--

ALTER TABLE ONLY module_push_records
    ADD CONSTRAINT module_push_records_pkey PRIMARY KEY (key);

--
-- Name: play_sessions play_sessions_pkey; Type: CONSTRAINT
--

ALTER TABLE ONLY play_sessions
    ADD CONSTRAINT play_sessions_pkey PRIMARY KEY (id);

--
-- Name: play_sessions play_sessions_session_id_key; Type: CONSTRAINT
--

ALTER TABLE ONLY play_sessions
    ADD CONSTRAINT play_sessions_session_id_key UNIQUE (session_id);

--
-- Name: provisioning_marks provisioning_marks_pkey; Type: CONSTRAINT
--

ALTER TABLE ONLY provisioning_marks
    ADD CONSTRAINT provisioning_marks_pkey PRIMARY KEY (name);

--
-- Name: ix_hubspot_rate_slots_key; Type: INDEX
--

CREATE INDEX ix_hubspot_rate_slots_key ON hubspot_rate_slots USING btree (budget_key, taken_at);

--
-- Name: ix_jobs_done_at; Type: INDEX
--

CREATE INDEX ix_jobs_done_at ON jobs USING btree (updated_at) WHERE ((state)::text = 'done'::text);

--
-- Name: ix_jobs_due; Type: INDEX
--

CREATE INDEX ix_jobs_due ON jobs USING btree (state, priority, next_attempt_at);

--
-- Name: ix_jobs_portal_state; Type: INDEX
--

CREATE INDEX ix_jobs_portal_state ON jobs USING btree (portal_id, state, kind);

--
-- Name: ix_play_sessions_media; Type: INDEX
--

CREATE INDEX ix_play_sessions_media ON play_sessions USING btree (external_id, started_day);

--
-- Name: ix_play_sessions_open; Type: INDEX
--

CREATE INDEX ix_play_sessions_open ON play_sessions USING btree (closed_at, last_seen_at);

--
-- PostgreSQL database dump complete
--

