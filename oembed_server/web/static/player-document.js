/* Document player: draws a PDF with PDF.js (vendor/pdfjs/, pdfjs-dist's built files) one page
 * at a time, fitted to the frame, with previous/next buttons; the download link is plain
 * markup. Loaded only by document player pages. Until a page is drawn, and whenever PDF.js
 * cannot draw it (not a PDF, another origin refusing CORS, an old browser), the page keeps
 * its "Open the document" link, so the document is always one click away. */
const root = document.querySelector("[data-document-src]");
let pdfjs = null;

if (root) {
  // PDF.js (350 kB) is fetched once the page has painted its title and links, so a slow
  // connection shows them at once instead of waiting for the library.
  requestAnimationFrame(() => setTimeout(start, 0));
}

async function start() {
  try {
    pdfjs = await import("./vendor/pdfjs/pdf.min.mjs");
    pdfjs.GlobalWorkerOptions.workerSrc = new URL("./vendor/pdfjs/pdf.worker.min.mjs", import.meta.url).href;
    await showDocument(root);
  } catch (error) {
    root.classList.add("player--document-failed");
  }
}

async function showDocument(container) {
  const canvas = container.querySelector("[data-document-canvas]");
  const previous = container.querySelector("[data-document-previous]");
  const next = container.querySelector("[data-document-next]");
  const status = container.querySelector("[data-document-status]");
  const pages = container.querySelector("[data-document-pages]");
  const title = container.getAttribute("data-document-title") || "Document";

  const task = pdfjs.getDocument({
    url: container.getAttribute("data-document-src"),
    // Warnings (e.g. a standard font drawn with a system font instead) are not the viewer's concern.
    // PDF.js probes eval for faster fonts; the player's CSP forbids eval, and the probe
    // would log a CSP violation. Without it PDF.js draws the same pages.
    isEvalSupported: false,
    verbosity: pdfjs.VerbosityLevel.ERRORS,
  });
  const pdf = await task.promise;
  let current = 1;
  let drawing = null;

  async function draw() {
    if (drawing) {
      drawing.cancel();
    }
    const page = await pdf.getPage(current);
    const unscaled = page.getViewport({ scale: 1 });
    const box = pages.getBoundingClientRect();
    const fit = Math.max(0.1, Math.min(box.width / unscaled.width, box.height / unscaled.height));
    const ratio = window.devicePixelRatio || 1;
    const viewport = page.getViewport({ scale: fit * ratio });
    canvas.width = Math.floor(viewport.width);
    canvas.height = Math.floor(viewport.height);
    canvas.style.width = `${Math.floor(viewport.width / ratio)}px`;
    canvas.style.height = `${Math.floor(viewport.height / ratio)}px`;
    drawing = page.render({ canvasContext: canvas.getContext("2d"), viewport });
    try {
      await drawing.promise;
    } catch (error) {
      if (error && error.name === "RenderingCancelledException") {
        return;
      }
      throw error;
    }
    drawing = null;
    canvas.setAttribute("aria-label", `${title}, page ${current} of ${pdf.numPages}`);
    canvas.hidden = false;
    container.classList.add("player--document-drawn");
    container.setAttribute("data-document-page", String(current));
    status.textContent = `Page ${current} of ${pdf.numPages}`;
    previous.disabled = current <= 1;
    next.disabled = current >= pdf.numPages;
  }

  function go(step) {
    const target = Math.min(pdf.numPages, Math.max(1, current + step));
    if (target !== current) {
      current = target;
      draw();
    }
  }

  previous.addEventListener("click", () => go(-1));
  next.addEventListener("click", () => go(1));
  container.addEventListener("keydown", (event) => {
    if (event.key === "ArrowLeft" || event.key === "PageUp") {
      go(-1);
    } else if (event.key === "ArrowRight" || event.key === "PageDown") {
      go(1);
    }
  });
  let resizeTimer = 0;
  window.addEventListener("resize", () => {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(draw, 150);
  });
  container.classList.add("player--document-ready");
  await draw();
}
