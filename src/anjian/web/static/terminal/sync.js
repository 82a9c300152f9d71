// The terminal's side of the exchange (GET/POST /api/v1/terminal/changes): the local state,
// what the officer records offline (queued changes), the upload (all or nothing, retried
// safely), the download, and the officer's answers to a conflict (409).
//
// state = {token, terminalName, officer, cursor, inspections: {uid: server view},
//          enterprises: {id: file}, queue: [change], inflight: [change_id] | null,
//          conflicts: [{change_id, uid, client, server}],
//          evidence: [{id, uid (finding), kind: "photos"|"signatures", key (vault), signer, role}],
//          lastSync, problem}

const API = "/api/v1/terminal/changes";
const EVIDENCE_API = "/api/v1/terminal/findings";
const TIMEOUT_MS = 20000;
const KEEP_FINISHED_MS = 30 * 24 * 3600 * 1000; // as the server (terminals.FINISHED_KEPT)

export function newState(token, terminalName, officer) {
  return {
    token, terminalName, officer, cursor: null, inspections: {}, enterprises: {},
    queue: [], inflight: null, conflicts: [], evidence: [], lastSync: null, problem: "",
  };
}

/** A state saved by an earlier version of the app: photos kept by finding uid become evidence
 * waiting to go up. */
export function upgradeState(state) {
  if (!state.evidence) {
    state.evidence = Object.entries(state.photos || {}).map(([uid, key]) => ({
      id: crypto.randomUUID(), uid, kind: "photos", key,
    }));
  }
  delete state.photos;
  return state;
}

/** Keep a photo or a signature (its data in the vault under ``key``) to send after its finding. */
export function addEvidence(state, uid, kind, key, extra = {}) {
  state.evidence.push({ id: crypto.randomUUID(), uid, kind, key, ...extra });
}

/** The photos and signatures of one finding still on the device. */
export function evidenceOf(state, uid) {
  return state.evidence.filter((e) => e.uid === uid);
}

/** Now as ISO 8601 with the device's UTC offset (the server keeps the zone). */
export function nowWithZone(date = new Date()) {
  const pad = (n, w = 2) => String(Math.abs(n)).padStart(w, "0");
  const off = -date.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `.${pad(date.getMilliseconds(), 3)}${sign}${pad(Math.trunc(off / 60))}:${pad(off % 60)}`;
}

const inspectionOf = (c) => (c.entity === "finding" ? c.inspection_uid : c.uid);

/** The pending changes of one inspection, in the order recorded. */
export function pendingOf(state, uid) {
  return state.queue.filter((c) => inspectionOf(c) === uid);
}

/** An inspection as the officer sees it: the server's version with the pending changes on top. */
export function view(state, uid) {
  const server = state.inspections[uid];
  if (!server) return null;
  const v = { ...server, checklist: server.checklist.map((i) => ({ ...i })), pending: [] };
  v.findings = server.findings.map((f) => ({ ...f }));
  for (const c of pendingOf(state, uid)) {
    v.pending.push(c);
    if (c.action === "start") {
      v.state = "on_site";
      v.started_at = c.at;
    } else if (c.action === "finish") {
      v.state = "finished";
      v.finished_at = c.at;
      v.summary = c.summary;
      v.checklist = v.checklist.map((i) => ({ ...i, result: c.results[i.code] ?? i.result }));
    } else {
      v.findings.push({
        uid: c.uid, item_code: c.item_code, place: c.place, description: c.description,
        major: c.major, found_at: c.at, lng: c.lng ?? null, lat: c.lat ?? null,
        photos: [], signatures: [], pending: true,
      });
      if (c.item_code) {
        v.checklist = v.checklist.map((i) => (i.code === c.item_code ? { ...i, result: "finding" } : i));
      }
    }
  }
  return v;
}

/** Queue a change recorded now: an inspection change on the version the officer sees. */
export function record(state, change) {
  const uid = inspectionOf(change);
  const full = {
    change_id: crypto.randomUUID(),
    base_version: change.entity === "finding" ? 0 : state.inspections[uid].version,
    at: nowWithZone(),
    ...change,
  };
  state.queue.push(full);
  return full;
}

async function call(method, url, token, body, type = "application/json") {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
  try {
    return await fetch(url, {
      method,
      cache: "no-store",
      signal: ctl.signal,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body ? { "Content-Type": type } : {}),
      },
      body: body instanceof Blob ? body : body ? JSON.stringify(body) : undefined,
    });
  } finally {
    clearTimeout(timer);
  }
}

/** Download what changed since the cursor; records are applied by (uid, version). */
export async function download(state) {
  const url = state.cursor ? `${API}?since=${encodeURIComponent(state.cursor)}` : API;
  const r = await call("GET", url, state.token);
  if (!r.ok) return { status: r.status, detail: await detailOf(r) };
  const data = await r.json();
  for (const insp of data.inspections) {
    const mine = state.inspections[insp.uid];
    if (!mine || insp.version >= mine.version) state.inspections[insp.uid] = insp;
  }
  for (const ent of data.enterprises) {
    const mine = state.enterprises[ent.id];
    if (!mine || ent.version >= mine.version) state.enterprises[ent.id] = ent;
  }
  // The server sends finished inspections for 30 days and then simply no more: drop them here
  // too, unless something of them still waits to go.
  const kept = Date.now() - KEEP_FINISHED_MS;
  for (const [uid, insp] of Object.entries(state.inspections)) {
    if (insp.state === "finished" && Date.parse(insp.finished_at) < kept && !pendingOf(state, uid).length) {
      delete state.inspections[uid];
    }
  }
  // An inspection whose enterprise file did not come (planned after the last download for an
  // enterprise unchanged since): start again from nothing next time.
  const missing = Object.values(state.inspections).some((i) => !state.enterprises[i.enterprise_id]);
  state.cursor = missing ? null : data.cursor;
  state.lastSync = nowWithZone();
  return { status: 200 };
}

async function detailOf(r) {
  try {
    const body = await r.json();
    return typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
  } catch (exc) {
    return `HTTP ${r.status}`;
  }
}

// After a batch was applied: the server views take the batch's effects and the version the
// server gave them, and changes recorded on top of the batch (still queued) move onto that
// version. A finding made against a checklist item moves its inspection one version on too;
// counting those can only under-estimate the version (someone else's change then shows as a
// conflict), never hide another's change.
function applied(state, batch, results) {
  const versions = new Map(results.map((r) => [r.change_id, r.version]));
  const uids = [...new Set(batch.map(inspectionOf))];
  const sent = new Set(batch.map((c) => c.change_id));
  for (const uid of uids) {
    const before = state.inspections[uid];
    if (!before) continue;
    const shown = view({ ...state, queue: batch }, uid);
    let version = before.version;
    for (const c of batch.filter((x) => inspectionOf(x) === uid)) {
      if (c.entity === "inspection") version = versions.get(c.change_id) ?? version;
      else if (c.item_code) version += 1;
    }
    const { pending, ...rest } = shown;
    state.inspections[uid] = {
      ...rest, version, findings: shown.findings.map(({ pending: _p, ...f }) => f),
    };
    for (const c of state.queue) {
      if (!sent.has(c.change_id) && c.entity === "inspection" && c.uid === uid &&
          c.base_version === before.version) {
        c.base_version = version;
      }
    }
  }
  state.queue = state.queue.filter((c) => !sent.has(c.change_id));
}

/**
 * Upload the queue. A batch that was sent without an answer (dropped connection) goes again
 * first, exactly as it was: the server answers its changes as ``repeated``. Returns
 * {status: 200} when all went, {status: 0} when the network failed (the batch stays marked),
 * {status: 409, conflicts} or another status with the server's ``detail``.
 */
export async function upload(state, persist) {
  for (;;) {
    let batch = state.inflight
      ? state.queue.filter((c) => state.inflight.includes(c.change_id))
      : [];
    if (!batch.length) {
      batch = state.queue.slice(0, 200);
      if (!batch.length) {
        state.inflight = null;
        return { status: 200 };
      }
      state.inflight = batch.map((c) => c.change_id);
      await persist();
    }
    let r;
    try {
      r = await call("POST", API, state.token, { changes: batch });
    } catch (exc) {
      return { status: 0 };
    }
    if (r.status === 200) {
      applied(state, batch, (await r.json()).results);
      state.inflight = null;
      await persist();
      continue;
    }
    if (r.status >= 500) return { status: r.status, detail: await detailOf(r) };
    state.inflight = null; // refused as a whole: nothing of it was applied
    if (r.status === 409) {
      const body = await r.json();
      if (Array.isArray(body.conflicts)) {
        state.conflicts = body.conflicts;
        await persist();
        return { status: 409, conflicts: body.conflicts };
      }
      await persist();
      return { status: 409, detail: body.detail };
    }
    await persist();
    return { status: r.status, detail: await detailOf(r) };
  }
}

function dataUrlBlob(dataUrl) {
  const [head, body] = dataUrl.split(",", 2);
  const type = head.slice(5).split(";")[0] || "application/octet-stream";
  const bytes = Uint8Array.from(atob(body), (ch) => ch.charCodeAt(0));
  return new Blob([bytes], { type });
}

/**
 * Send the photos and signatures whose finding the server has (it is no longer queued), one at a
 * time; the server keeps an image once, so sending one again after a lost answer is harmless.
 * What went is removed from the device. Returns {status: 200, refused: [detail]} (a photo the
 * server can never take, e.g. not an image, is dropped and named), {status: 0} when the network
 * failed, or the status and detail of another refusal (the rest waits for the next sync).
 */
export async function uploadEvidence(state, persist, load, remove) {
  const refused = [];
  for (const item of [...state.evidence]) {
    if (state.queue.some((c) => c.uid === item.uid)) continue; // its finding has not gone yet
    const data = await load(item.key);
    const drop = async () => {
      state.evidence = state.evidence.filter((e) => e.id !== item.id);
      await remove(item.key);
      await persist();
    };
    if (!data) {
      await drop();
      continue;
    }
    let url = `${EVIDENCE_API}/${item.uid}/${item.kind}`;
    if (item.kind === "signatures") {
      url += `?signer=${encodeURIComponent(item.signer)}&role=${encodeURIComponent(item.role)}`;
    }
    let r;
    try {
      const blob = dataUrlBlob(data);
      r = await call("POST", url, state.token, blob, blob.type);
    } catch (exc) {
      return { status: 0 };
    }
    if (r.ok) {
      await drop();
    } else if (r.status === 422) {
      refused.push(await detailOf(r));
      await drop();
    } else {
      return { status: r.status, detail: await detailOf(r) };
    }
  }
  return { status: 200, refused };
}

/**
 * Conflicts the server did not list but the latest download shows: changes on an inspection
 * the server has finished (they cannot be applied any more).
 */
export function staleOnServer(state) {
  return state.queue
    .filter((c) => state.inspections[inspectionOf(c)]?.state === "finished")
    .map((c) => ({
      change_id: c.change_id, uid: c.uid, client: c, server: state.inspections[inspectionOf(c)],
    }));
}

/** The conflicts grouped by inspection: [{uid, server, changes}]. */
export function conflictGroups(state) {
  const groups = new Map();
  for (const k of state.conflicts) {
    const uid = k.client.entity === "finding" ? k.client.inspection_uid : k.uid;
    if (!groups.has(uid)) groups.set(uid, { uid, server: k.server, ids: new Set() });
    const g = groups.get(uid);
    if (k.server.version >= g.server.version) g.server = k.server;
    g.ids.add(k.change_id);
  }
  return [...groups.values()];
}

/** Whether 保留我的修改 can be accepted: the server has not finished the inspection. */
export function canKeepMine(group) {
  return group.server.state !== "finished";
}

/** What 以服务器为准 drops: the conflicting changes, and all pending changes of the inspection
 * when the server has finished it (it would accept none of them). */
export function droppedByServer(state, group) {
  return pendingOf(state, group.uid).filter(
    (c) => group.ids.has(c.change_id) || group.server.state === "finished");
}

function takeServerView(state, group) {
  const mine = state.inspections[group.uid];
  if (!mine || group.server.version >= mine.version) state.inspections[group.uid] = group.server;
  state.conflicts = state.conflicts.filter(
    (k) => !group.ids.has(k.change_id));
}

/** 以服务器为准: drop my conflicting changes, take the server's version. Returns the dropped. */
export function takeServer(state, group) {
  const dropped = droppedByServer(state, group);
  const ids = new Set(dropped.map((c) => c.change_id));
  state.queue = state.queue.filter((c) => !ids.has(c.change_id));
  takeServerView(state, group);
  return dropped;
}

/** 保留我的修改: my changes rebased on the server's version, to send again. A start the server
 * already has is dropped (the server's start time stands). */
export function keepMine(state, group) {
  const server = group.server;
  const drop = new Set();
  for (const c of pendingOf(state, group.uid)) {
    if (c.entity === "inspection") {
      if (c.action === "start" && server.state !== "planned") drop.add(c.change_id);
      else c.base_version = server.version;
    } else if (group.ids.has(c.change_id)) {
      const uid = crypto.randomUUID(); // the uid is taken on the server: a new record
      for (const e of evidenceOf(state, c.uid)) e.uid = uid;
      c.uid = uid;
    }
  }
  state.queue = state.queue.filter((c) => !drop.has(c.change_id));
  takeServerView(state, group);
}
