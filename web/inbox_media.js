// A customer's media in the inbox transcript: an image as a thumbnail that opens full size, audio and voice notes as
// a player (with the transcript, where there is one), video as a player, anything else as a download link with its
// file name. The bytes come from the operator API with the gateway token in the Authorization header (never in a
// URL) and are shown through blob: URLs. File names and mime types come from the customer: text only, never HTML.
// In AWS the API answers with a presigned S3 URL of a minute instead (asked for as JSON: fetch() cannot follow a
// cross-origin redirect to S3 with this page's Origin), fetched without the token; S3 answers with the same safe
// Content-Type and Content-Disposition the local route sends.

const LINK = "application/vnd.clawgate.media-link+json";

const apiBase = (async () => {
  try {
    const config = await fetch("config.json", { cache: "no-store" });
    if (config.ok) return ((await config.json()).api_url || "").replace(/\/$/, "");
  } catch {
    // no config.json: the operator API is on this host
  }
  return "";
})();

function token() {
  return localStorage.getItem("clawgate.token") ?? sessionStorage.getItem("clawgate.token");
}

// One download at a time: a transcript can hold dozens of attachments, and the phone's bandwidth goes to the first.
let queue = Promise.resolve();

function objectUrl(path) {
  const next = queue.then(async () => {
    const headers = { Authorization: `Bearer ${token()}`, Accept: `${LINK}, */*;q=0.1` };
    let response = await fetch((await apiBase) + path, { headers });
    if (response.ok && (response.headers.get("content-type") || "").startsWith(LINK)) {
      response = await fetch((await response.json()).url, { referrerPolicy: "no-referrer", cache: "no-store" });
    }
    if (!response.ok) throw new Error(`media: HTTP ${response.status}`);
    return URL.createObjectURL(await response.blob());
  });
  queue = next.catch(() => {});
  return next;
}

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function label(media) {
  return [media.kind, media.mime_type, media.filename].filter(Boolean).join(" ");
}

function openFull(url, name) {
  const overlay = el("div", null, "media-full");
  const image = el("img");
  image.src = url;
  image.alt = name;
  overlay.append(image);
  overlay.addEventListener("click", () => overlay.remove());
  document.body.append(overlay);
}

function image(box, media, url) {
  const name = media.filename || "image";
  const thumb = el("img", null, "thumb");
  thumb.alt = name;
  thumb.src = url;
  const link = el("button", null, "thumb-link");
  link.type = "button";
  link.title = `Open ${name}`;
  link.append(thumb);
  link.addEventListener("click", () => openFull(url, name));
  box.append(link);
}

function player(box, media, url) {
  const node = el(media.kind === "video" ? "video" : "audio");
  node.controls = true;
  node.preload = "metadata";
  node.src = url;
  box.append(node);
}

function download(box, media, url) {
  const name = media.filename || `${media.kind}`;
  const link = el("a", `⬇ ${name}`, "download");
  link.href = url;
  link.download = name;
  box.append(link);
}

const SHOW = { image, sticker: image, audio: player, voice: player, video: player, document: download };

// The placeholder the model reads ("[Voice note: audio/ogg] Transcript: …") becomes the media itself plus its
// caption or transcript.
export function mediaNodes(message) {
  const media = (message.media || []).filter((m) => m.url);
  const unavailable = (message.media || []).filter((m) => !m.url).map((m) => el("span", `📎 ${label(m)}`, "media"));
  if (!media.length) return { text: message.text, nodes: unavailable };
  const rest = message.text.replace(/^\[[^\]]*\]\s*/, "");
  const transcript = rest.startsWith("Transcript: ") ? rest.slice("Transcript: ".length) : null;
  const nodes = media.map((m) => {
    const box = el("div", null, `media ${m.kind}`);
    objectUrl(m.url)
      .then((url) => (SHOW[m.kind] || download)(box, m, url))
      .catch(() => box.append(el("span", `📎 ${label(m)} (not available)`)));
    return box;
  });
  if (transcript) nodes.push(el("span", `Transcript: ${transcript}`, "media-transcript"));
  return { text: transcript ? "" : rest, nodes: [...nodes, ...unavailable] };
}
