// The control-plane protocol (see layers/clawgate/clawgate/core/protocol.py): request/response by id, events,
// and frames over 32 KB split into chunk frames {type:"chunk", id, index, count, data} and joined on receipt.

const MAX_FRAME_BYTES = 32 * 1024;
const PIECE_UNITS = 5000; // at most 6 bytes per UTF-16 unit once escaped: 30 KB per chunk frame
const encoder = new TextEncoder();

export class ProtocolError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Cut a string into pieces of at most PIECE_UNITS code units, never between the halves of a surrogate pair.
function pieces(text) {
  const out = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + PIECE_UNITS, text.length);
    const code = text.charCodeAt(end - 1);
    if (end < text.length && code >= 0xd800 && code <= 0xdbff) end -= 1;
    out.push(text.slice(start, end));
    start = end;
  }
  return out;
}

export class ControlSocket {
  constructor(url) {
    this.url = url;
    this.nextId = 1;
    this.pending = new Map();
    this.handlers = new Map();
    this.partial = new Map();
    this.onclose = null;
  }

  open() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url);
      this.ws = ws;
      ws.onopen = () => resolve(this);
      ws.onerror = () => reject(new ProtocolError("network", "cannot reach the control plane"));
      ws.onmessage = (message) => this.receive(String(message.data));
      ws.onclose = (event) => {
        for (const { reject: fail } of this.pending.values()) fail(new ProtocolError("closed", "the connection closed"));
        this.pending.clear();
        if (this.onclose) this.onclose(event);
      };
    });
  }

  close() {
    this.onclose = null;
    if (this.ws) this.ws.close();
  }

  on(event, handler) {
    this.handlers.set(event, handler);
  }

  sendFrame(frame) {
    const text = JSON.stringify(frame);
    if (encoder.encode(text).length <= MAX_FRAME_BYTES) {
      this.ws.send(text);
      return;
    }
    const id = randomId();
    const parts = pieces(text);
    parts.forEach((data, index) => this.ws.send(JSON.stringify({ type: "chunk", id, index, count: parts.length, data })));
  }

  request(method, params = {}) {
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.sendFrame({ type: "req", id, method, params });
    });
  }

  receive(text) {
    let frame = JSON.parse(text);
    if (frame.type === "chunk") {
      const got = this.partial.get(frame.id) || [];
      got[frame.index] = frame.data;
      this.partial.set(frame.id, got);
      if (got.filter((piece) => piece !== undefined).length < frame.count) return;
      this.partial.delete(frame.id);
      frame = JSON.parse(got.join(""));
    }
    if (frame.type === "res") {
      const waiting = this.pending.get(frame.id);
      if (!waiting) return;
      this.pending.delete(frame.id);
      if (frame.ok) waiting.resolve(frame.payload);
      else waiting.reject(new ProtocolError(frame.error.code, frame.error.message));
    } else if (frame.type === "event") {
      const handler = this.handlers.get(frame.event);
      if (handler) handler(frame.payload, frame.seq);
    }
  }
}
