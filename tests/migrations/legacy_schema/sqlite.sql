CREATE TABLE media_items (
	id INTEGER NOT NULL, 
	external_id VARCHAR(255) NOT NULL, 
	media_type VARCHAR(16) NOT NULL, 
	title TEXT NOT NULL, 
	file_url TEXT, 
	thumbnail_url TEXT, 
	thumbnail_width INTEGER, 
	thumbnail_height INTEGER, 
	poster_url TEXT, 
	duration_ms BIGINT, 
	width INTEGER, 
	height INTEGER, 
	folder_path TEXT, 
	details_page_link TEXT, 
	author_name TEXT, 
	author_url TEXT, 
	visibility VARCHAR(16) DEFAULT 'public' NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	hubspot_object_id VARCHAR(64), 
	captions TEXT, 
	stream_url TEXT, 
	library VARCHAR(64), 
	PRIMARY KEY (id), 
	UNIQUE (external_id)
);
CREATE TABLE hubspot_rate_slots (
	id BIGINT NOT NULL, 
	budget_key VARCHAR(64) NOT NULL, 
	taken_at FLOAT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_hubspot_rate_slots_key ON hubspot_rate_slots (budget_key, taken_at);
CREATE TABLE hubspot_rate_blocks (
	budget_key VARCHAR(64) NOT NULL, 
	blocked_until FLOAT NOT NULL, 
	PRIMARY KEY (budget_key)
);
CREATE TABLE hubspot_oauth_tokens (
	origin VARCHAR(64) NOT NULL, 
	ciphertext TEXT NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (origin)
);
CREATE TABLE jobs (
	id INTEGER NOT NULL, 
	kind VARCHAR(64) NOT NULL, 
	portal_id BIGINT, 
	priority SMALLINT DEFAULT '100' NOT NULL, 
	payload TEXT NOT NULL, 
	state VARCHAR(16) DEFAULT 'queued' NOT NULL, 
	attempts INTEGER DEFAULT '0' NOT NULL, 
	next_attempt_at FLOAT NOT NULL, 
	created_at FLOAT NOT NULL, 
	updated_at FLOAT NOT NULL, 
	dedupe_key VARCHAR(128), 
	last_error TEXT, 
	lease_owner VARCHAR(64), 
	lease_until FLOAT, 
	PRIMARY KEY (id), 
	UNIQUE (dedupe_key)
);
CREATE INDEX ix_jobs_done_at ON jobs (updated_at) WHERE state = 'done';
CREATE INDEX ix_jobs_due ON jobs (state, priority, next_attempt_at);
CREATE INDEX ix_jobs_portal_state ON jobs (portal_id, state, kind);
CREATE TABLE play_sessions (
	id INTEGER NOT NULL, 
	session_id VARCHAR(64) NOT NULL, 
	external_id VARCHAR(255) NOT NULL, 
	media_type VARCHAR(16) NOT NULL, 
	portal_id BIGINT, 
	contact_utk VARCHAR(128), 
	page_id VARCHAR(64), 
	page_name TEXT, 
	page_url TEXT, 
	hsenc TEXT, 
	external_play_context VARCHAR(16), 
	state VARCHAR(16), 
	started_at_ms BIGINT, 
	started_day VARCHAR(10), 
	reports INTEGER DEFAULT '1' NOT NULL, 
	spans TEXT, 
	span_seconds FLOAT, 
	duration_seconds FLOAT, 
	percent_played FLOAT, 
	attention_at_ms BIGINT, 
	first_seen_at FLOAT NOT NULL, 
	last_seen_at FLOAT NOT NULL, 
	closed_at FLOAT, 
	PRIMARY KEY (id), 
	UNIQUE (session_id)
);
CREATE INDEX ix_play_sessions_open ON play_sessions (closed_at, last_seen_at);
CREATE INDEX ix_play_sessions_media ON play_sessions (external_id, started_day);
CREATE TABLE hubspot_portals (
	portal_id BIGINT NOT NULL, 
	library VARCHAR(64) NOT NULL, 
	ciphertext TEXT, 
	token_state VARCHAR(16) NOT NULL, 
	state_reason TEXT, 
	connected_at FLOAT NOT NULL, 
	updated_at FLOAT NOT NULL, 
	last_sync_at FLOAT, 
	generation INTEGER DEFAULT '1' NOT NULL, 
	PRIMARY KEY (portal_id)
);
CREATE TABLE hubspot_install_states (
	nonce VARCHAR(64) NOT NULL, 
	used_at FLOAT NOT NULL, 
	PRIMARY KEY (nonce)
);
CREATE TABLE provisioning_marks (
	name VARCHAR(64) NOT NULL, 
	value VARCHAR(128) NOT NULL, 
	updated_at FLOAT NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE module_push_records (
	"key" VARCHAR(600) NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	remote_updated_at VARCHAR(64), 
	PRIMARY KEY ("key")
);
