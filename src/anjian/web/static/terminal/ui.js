// Small DOM helpers of the terminal app: elements built with text nodes (never HTML strings,
// so nothing downloaded or typed can inject markup), Chinese dates, labels.

/** el("div", {class: "x", onclick: fn}, child, "text", [children]) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A date-time as 2026-12-05 17:30 in the device's time zone ("" when absent). */
export function when(value) {
  if (!value) return "";
  const d = new Date(value);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A labelled row of a definition list (skipped when the value is empty). */
export function row(label, value, id) {
  if (value === null || value === undefined || value === "") return null;
  return el("div", { class: "t-row" }, el("dt", {}, label), el("dd", { id }, value));
}

export const STATE_BADGES = {
  planned: "bg-blue-lt", on_site: "bg-orange-lt", finished: "bg-green-lt",
};

/** A photo file, scaled down to at most ``max`` pixels a side, as a JPEG data URL. */
export function photoDataUrl(file, max = 1280) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(reader.error);
    reader.onload = () => {
      const img = new Image();
      img.onerror = () => reject(new Error("not an image"));
      img.onload = () => {
        const scale = Math.min(1, max / Math.max(img.width, img.height));
        const canvas = document.createElement("canvas");
        canvas.width = Math.round(img.width * scale);
        canvas.height = Math.round(img.height * scale);
        canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
        resolve(canvas.toDataURL("image/jpeg", 0.8));
      };
      img.src = reader.result;
    };
    reader.readAsDataURL(file);
  });
}

/**
 * A signature pad: a canvas drawn on with a finger, a pen or a mouse. Returns {node, isEmpty(),
 * dataUrl(), clear()}; the image is a PNG with a white background.
 */
export function signaturePad(id) {
  const canvas = el("canvas", { class: "t-signature", id, width: 600, height: 200 });
  const ctx = canvas.getContext("2d");
  let empty = true;
  let last = null;
  const clear = () => {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    empty = true;
  };
  const at = (ev) => {
    const box = canvas.getBoundingClientRect();
    return [(ev.clientX - box.left) * canvas.width / box.width, (ev.clientY - box.top) * canvas.height / box.height];
  };
  canvas.addEventListener("pointerdown", (ev) => {
    canvas.setPointerCapture(ev.pointerId);
    last = at(ev);
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (!last) return;
    const next = at(ev);
    ctx.strokeStyle = "#111";
    ctx.lineWidth = 3;
    ctx.lineCap = "round";
    ctx.beginPath();
    ctx.moveTo(...last);
    ctx.lineTo(...next);
    ctx.stroke();
    last = next;
    empty = false;
  });
  for (const end of ["pointerup", "pointercancel"]) canvas.addEventListener(end, () => { last = null; });
  clear();
  return { node: canvas, isEmpty: () => empty, dataUrl: () => canvas.toDataURL("image/png"), clear };
}

/** The device's position as {lng, lat}, or null when refused or not found within ``ms``. */
export function position(ms = 8000) {
  return new Promise((resolve) => {
    if (!navigator.geolocation) {
      resolve(null);
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lng: Math.round(p.coords.longitude * 1e6) / 1e6, lat: Math.round(p.coords.latitude * 1e6) / 1e6 }),
      () => resolve(null),
      { timeout: ms, maximumAge: 60000, enableHighAccuracy: true });
  });
}
