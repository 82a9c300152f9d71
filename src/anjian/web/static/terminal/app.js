// 移动执法终端: the officer's inspections on a phone or tablet, offline both ways. Screens:
// pairing (set the PIN), unlock, the task list, a task, a finding, the finish form and the
// conflicts (冲突). The data lives in the vault (store.js); the exchange is in sync.js.

import { MAX_FAILURES, PIN_PATTERN, Vault, failures, hasVault, wipe } from "./store.js";
import {
  addEvidence, canKeepMine, conflictGroups, download, droppedByServer, evidenceOf, keepMine,
  newState, pendingOf, record, staleOnServer, takeServer, upgradeState, upload, uploadEvidence,
  view,
} from "./sync.js";
import { STATE_BADGES, el, photoDataUrl, position, row, signaturePad, when } from "./ui.js";

const root = document.getElementById("app");
const LABELS = JSON.parse(root.dataset.labels || "{}");
const pairing = root.dataset.pairToken
  ? { token: root.dataset.pairToken, name: root.dataset.pairName, officer: root.dataset.pairOfficer }
  : null;

let vault = null; // the unlocked vault (its key in memory only)
let state = null;
let syncing = false;
let message = null; // {kind, text} shown under the header once

const label = (kind, code) => (LABELS[kind] || {})[code] || code;
const ROLES = { enterprise: "被检查单位", inspector: "执法人员" };
const persist = () => vault.save("state", state);
const online = () => navigator.onLine;

function say(kind, text) {
  message = { kind, text };
}

function mount(...children) {
  root.replaceChildren(...children.filter(Boolean));
}

let shownHash = null; // a new screen starts at its top; the same one keeps its place

// --- pairing and unlocking --------------------------------------------------------------------

function pinForm(title, intro, onPin, extra) {
  const error = el("div", { class: "invalid-feedback d-block", id: "pin-error" });
  const pin = el("input", { class: "form-control", id: "pin", type: "password", inputmode: "numeric", autocomplete: "new-password", required: true });
  const pin2 = el("input", { class: "form-control", id: "pin2", type: "password", inputmode: "numeric", autocomplete: "new-password", required: true });
  const form = el("form", {
    class: "card-body",
    onsubmit: async (ev) => {
      ev.preventDefault();
      if (!PIN_PATTERN.test(pin.value)) error.textContent = "PIN 须为 6–12 位数字";
      else if (pin.value !== pin2.value) error.textContent = "两次输入的 PIN 不一致";
      else await onPin(pin.value, error);
    },
  },
  el("h2", { class: "card-title" }, title),
  el("p", { class: "text-secondary" }, intro),
  extra || null,
  el("label", { class: "form-label", for: "pin" }, "设置 PIN（6–12 位数字）"), pin,
  el("label", { class: "form-label mt-2", for: "pin2" }, "再次输入 PIN"), pin2, error,
  el("p", { class: "text-secondary small mt-2" },
    "本机保存的任务、检查记录和终端令牌都用由此 PIN 生成的密钥加密；退出或关闭终端后须再次输入 PIN。连续输错 ",
    String(MAX_FAILURES), " 次将清除本机数据。"),
  el("button", { class: "btn btn-primary w-100 mt-2", id: "pin-save", type: "submit" }, "保存并开始使用"));
  return el("div", { class: "t-center" }, el("div", { class: "card" }, form));
}

async function startVault(pin, token, name, officer) {
  vault = await Vault.create(pin);
  state = newState(token, name, officer);
  await persist();
  history.replaceState(null, "", "/terminal/#/");
  say("success", "本设备已绑定，正在下载检查任务…");
  render();
  await sync();
}

async function showPairing() {
  const paired = await hasVault();
  mount(pinForm(
    "绑定成功：设置 PIN",
    `终端“${pairing.name}”已绑定给执法人员 ${pairing.officer}。请设置本设备的 PIN。`,
    (pin) => startVault(pin, pairing.token, pairing.name, pairing.officer),
    paired ? el("div", { class: "alert alert-warning" },
      "本设备上已有另一个终端的数据，继续将清除它们（包括尚未上传的记录）。") : null));
}

function showUnpaired() {
  const token = el("textarea", { class: "form-control", id: "paste-token", rows: 2, placeholder: "tml_…" });
  const tokenError = el("div", { class: "invalid-feedback d-block" });
  const paste = pinForm(
    "粘贴终端令牌",
    "已在控制台为本人绑定终端并取得令牌（tml_ 开头，只显示一次）时，可粘贴在这里。",
    async (pin) => {
      const value = token.value.trim();
      if (!/^tml_[A-Za-z0-9_-]{20,96}$/.test(value)) {
        tokenError.textContent = "令牌格式不正确";
        return;
      }
      await startVault(pin, value, "移动执法终端", "");
    },
    el("div", { class: "mb-2" }, el("label", { class: "form-label", for: "paste-token" }, "终端令牌"), token, tokenError));
  paste.id = "paste";
  mount(
    el("div", { class: "t-center" }, el("div", { class: "card" }, el("div", { class: "card-body" },
      el("h2", { class: "card-title" }, "本设备尚未绑定"),
      el("p", {}, "请在联网时用执法人员账号登录控制台，打开绑定页面，将本设备绑定给自己。"),
      el("a", { class: "btn btn-primary w-100", href: "/terminal/pair", id: "pair-link" }, "登录并绑定本设备")))),
    paste);
  if (location.hash === "#paste") token.focus();
}

async function showLocked(note) {
  const left = MAX_FAILURES - (await failures());
  const pin = el("input", { class: "form-control", id: "unlock-pin", type: "password", inputmode: "numeric", autocomplete: "current-password", required: true });
  const error = el("div", { class: "invalid-feedback d-block", id: "unlock-error" }, note || "");
  mount(el("div", { class: "t-center" }, el("div", { class: "card" }, el("form", {
    class: "card-body",
    onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        vault = await Vault.unlock(pin.value);
      } catch (exc) {
        if (exc.message === "wiped") {
          say("danger", `PIN 连续输错 ${MAX_FAILURES} 次，本机数据已清除。`);
          boot();
        } else {
          showLocked(`PIN 不正确，还可尝试 ${MAX_FAILURES - (await failures())} 次`);
        }
        return;
      }
      state = upgradeState(await vault.load("state"));
      render();
      if (online()) sync();
    },
  },
  el("h2", { class: "card-title" }, "移动执法终端已锁定"),
  el("p", { class: "text-secondary" }, "输入本设备的 PIN 解锁。本机数据已加密，未解锁时无法读取。"),
  el("label", { class: "form-label", for: "unlock-pin" }, "PIN"), pin, error,
  left < MAX_FAILURES ? el("p", { class: "small text-warning mt-1" }, `还可尝试 ${left} 次`) : null,
  el("button", { class: "btn btn-primary w-100 mt-3", id: "unlock-button", type: "submit" }, "解锁"),
  el("button", {
    class: "btn btn-link text-danger w-100 mt-2", id: "wipe-button", type: "button",
    onclick: async () => {
      if (!confirm("清除本机的全部终端数据（包括尚未上传的记录）？之后须重新绑定。")) return;
      await wipe();
      boot();
    },
  }, "清除本机数据")))));
  pin.focus();
}

function lock() {
  vault = null;
  state = null;
  message = null;
  history.replaceState(null, "", "/terminal/#/");
  showLocked();
}

// --- synchronisation --------------------------------------------------------------------------

async function sync() {
  if (!state || syncing) return;
  syncing = true;
  render();
  try {
    const up = await upload(state, persist);
    if (up.status === 0) {
      say("warning", "网络不可用，记录已保存在本机，联网后再上传。");
      return;
    }
    if (up.status === 401) {
      say("danger", "终端令牌已失效（终端被注销或人员停用）。本机记录仍保留，请联系机关重新绑定。");
      return;
    }
    if (up.status === 409 && up.conflicts) {
      say("danger", "有记录在服务器上已被修改，请逐条处理冲突。");
      location.hash = "#/conflicts";
      return;
    }
    let evidenceNote = "";
    if (up.status === 200) {
      const ev = await uploadEvidence(state, persist, (k) => vault.load(k), (k) => vault.remove(k));
      if (ev.status === 0) {
        say("warning", "网络不可用，照片和签字保存在本机，联网后再上传。");
        return;
      }
      if (ev.status !== 200) evidenceNote = `照片和签字上传失败：${ev.detail}`;
      else if (ev.refused.length) evidenceNote = `有照片或签字未被接收：${ev.refused.join("；")}`;
    }
    const down = await download(state);
    if (up.status === 409) {
      state.conflicts = staleOnServer(state);
      if (state.conflicts.length) {
        say("danger", "服务器上的检查已结束，本机记录无法再上传，请处理冲突。");
        location.hash = "#/conflicts";
      } else {
        say("danger", `上传被拒绝：${up.detail}`);
      }
    } else if (up.status !== 200) {
      say("danger", `上传失败：${up.detail}`);
    } else if (down.status === 200) {
      say(evidenceNote ? "warning" : "success", evidenceNote || `已同步：${when(state.lastSync)}`);
    } else {
      say("danger", `下载失败：${down.detail}`);
    }
    await persist();
  } catch (exc) {
    say("warning", "网络不可用，记录已保存在本机，联网后再上传。");
  } finally {
    syncing = false;
    render();
  }
}

// --- the app's screens ------------------------------------------------------------------------

function header() {
  const waiting = state.queue.length;
  return el("header", { class: "t-header" },
    el("div", { class: "t-title" },
      el("strong", {}, "移动执法终端"),
      el("span", { class: "t-officer" }, [state.officer, state.terminalName].filter(Boolean).join(" · "))),
    el("div", { class: "t-bar" },
      el("span", { id: "net-status", class: `badge ${online() ? "bg-green" : "bg-secondary"} text-white` }, online() ? "在线" : "离线"),
      el("span", { class: "t-waiting" }, "待上传 ", el("strong", { id: "pending-count" }, String(waiting))),
      state.conflicts.length ? el("a", { id: "conflict-link", class: "badge bg-red text-white", href: "#/conflicts" }, `冲突 ${conflictGroups(state).length}`) : null,
      el("button", { class: "btn btn-sm btn-primary", id: "sync-button", disabled: syncing || !online(), onclick: sync }, syncing ? "同步中…" : "同步"),
      el("button", { class: "btn btn-sm", id: "lock-button", onclick: lock }, "退出")));
}

function banner() {
  if (!message) return null;
  const m = message;
  message = null;
  return el("div", { class: `alert alert-${m.kind} t-message`, id: "message", role: "status" }, m.text);
}

function stateBadge(v) {
  return el("span", { class: `badge ${STATE_BADGES[v.state] || ""}`, id: "task-state" }, label("states", v.state));
}

function taskList() {
  const items = Object.keys(state.inspections).map((uid) => view(state, uid))
    .sort((a, b) => (a.state === "finished") - (b.state === "finished") || a.planned_on.localeCompare(b.planned_on));
  const cards = items.map((v) => {
    const ent = state.enterprises[v.enterprise_id] || {};
    return el("a", { class: "card t-task", href: `#/i/${v.uid}`, "data-uid": v.uid },
      el("div", { class: "card-body" },
        el("div", { class: "d-flex justify-content-between align-items-start gap-2" },
          el("strong", { class: "t-task-name" }, v.enterprise_name || ent.name || "（企业）"), stateBadge(v)),
        el("div", { class: "text-secondary small" }, ent.address || ""),
        el("div", { class: "small mt-1" }, `计划 ${v.planned_on} · ${label("sources", v.source)} · 发现问题 ${v.findings.length} 项`,
          v.pending.length ? el("span", { class: "badge bg-yellow-lt ms-2" }, `待上传 ${v.pending.length}`) : null)));
  });
  return el("main", { class: "t-main" },
    el("h1", { class: "t-h1" }, "我的检查任务"),
    cards.length ? cards : el("div", { class: "empty" }, el("p", { class: "empty-title" }, "暂无检查任务"),
      el("p", { class: "empty-subtitle text-secondary" }, online() ? "点击“同步”下载分配给您的检查任务。" : "联网后点击“同步”下载检查任务。")),
    state.lastSync ? el("p", { class: "text-secondary small mt-3" }, `上次同步：${when(state.lastSync)}`) : null);
}

async function act(change, to) {
  record(state, change);
  await persist();
  location.hash = to;
  if (online()) sync();
  else render();
}

function taskPage(uid) {
  const v = view(state, uid);
  if (!v) return el("main", { class: "t-main" }, el("p", {}, "没有这项检查任务。"), el("a", { href: "#/" }, "返回任务列表"));
  const ent = state.enterprises[v.enterprise_id] || {};
  const actions = [];
  if (v.state === "planned") {
    actions.push(el("button", { class: "btn btn-primary", id: "start-button", onclick: () => act({ entity: "inspection", action: "start", uid }, `#/i/${uid}`) }, "开始检查"));
  }
  if (v.state === "on_site") {
    actions.push(el("a", { class: "btn btn-warning", id: "finding-button", href: `#/i/${uid}/finding` }, "记录问题"));
    actions.push(el("a", { class: "btn btn-success", id: "finish-button", href: `#/i/${uid}/finish` }, "结束检查"));
  }
  const findings = v.findings.map((f) => {
    const item = v.checklist.find((i) => i.code === f.item_code);
    const local = evidenceOf(state, f.uid);
    const signed = [...(f.signatures || []), ...local.filter((e) => e.kind === "signatures")]
      .map((s) => `${s.signer}（${ROLES[s.role] || s.role}）`);
    return el("div", { class: "list-group-item t-finding" },
      el("div", { class: "d-flex justify-content-between gap-2" }, el("strong", {}, f.place),
        el("span", {}, f.major ? el("span", { class: "badge bg-red text-white" }, "重大事故隐患") : null,
          f.pending ? el("span", { class: "badge bg-yellow-lt ms-1" }, "待上传") : null)),
      el("div", {}, f.description),
      item ? el("div", { class: "small text-secondary" }, `检查项：${item.text}`) : null,
      el("div", { class: "small text-secondary" }, when(f.found_at),
        f.lng != null ? ` · 位置 ${f.lng}, ${f.lat}` : ""),
      f.photos?.length ? el("div", { class: "small t-uploaded" }, `已上传照片 ${f.photos.length} 张`) : null,
      signed.length ? el("div", { class: "small t-signed" }, `签字：${signed.join("、")}`) : null,
      local.length ? el("div", { class: "t-evidence" },
        local.map((e) => el("img", { class: e.kind === "photos" ? "t-photo" : "t-photo t-sign", alt: e.kind === "photos" ? "现场照片" : "签字", "data-photo": e.key })),
        el("span", { class: "badge bg-yellow-lt" }, `照片和签字待上传 ${local.length}`)) : null);
  });
  const checklist = v.checklist.map((i) => el("li", { class: `t-item t-result-${i.result || "none"}` },
    el("span", { class: "t-item-text" }, i.text),
    el("span", { class: "t-item-result" }, i.result ? label("results", i.result) : "未检查")));
  return el("main", { class: "t-main" },
    el("a", { href: "#/", class: "t-back" }, "‹ 任务列表"),
    el("h1", { class: "t-h1", id: "task-enterprise" }, v.enterprise_name || ent.name),
    el("div", { class: "mb-2" }, stateBadge(v), v.pending.length ? el("span", { class: "badge bg-yellow-lt ms-2" }, `待上传 ${v.pending.length}`) : null),
    el("div", { class: "t-actions" }, actions),
    el("div", { class: "t-grid" },
    el("section", { class: "card mt-2" }, el("div", { class: "card-body" },
      el("h2", { class: "card-title" }, "企业"),
      el("dl", { class: "t-dl" },
        row("地址", ent.address, "task-address"),
        row("监管类别", label("categories", ent.supervision_category)),
        row("统一社会信用代码", ent.uscc),
        row("法定代表人", ent.legal_rep),
        row("安全负责人", ent.safety_manager)))),
    el("section", { class: "card mt-2" }, el("div", { class: "card-body" },
      el("h2", { class: "card-title" }, "检查"),
      el("dl", { class: "t-dl" },
        row("来源", label("sources", v.source)),
        row("计划日期", v.planned_on),
        row("检查组", v.team.map((m) => m.name).join("、"), "task-team"),
        row("开始", when(v.started_at)),
        row("结束", when(v.finished_at)),
        row("检查结论", v.summary, "task-summary"))))),
    el("section", { class: "card mt-2" }, el("div", { class: "card-body" },
      el("h2", { class: "card-title" }, `检查发现（${v.findings.length}）`),
      findings.length ? el("div", { class: "list-group list-group-flush", id: "findings" }, findings)
        : el("p", { class: "text-secondary mb-0" }, "尚未记录问题。"),
      state.evidence.length ? el("p", { class: "small text-secondary mt-2 mb-0" }, "照片和签字加密保存在本机，问题上传后随即上传。") : null)),
    el("section", { class: "card mt-2" }, el("div", { class: "card-body" },
      el("h2", { class: "card-title" }, "检查表（重大事故隐患判定标准）"),
      el("ol", { class: "t-checklist", id: "checklist" }, checklist))));
}

async function showPhotos() {
  for (const img of root.querySelectorAll("img[data-photo]")) {
    const data = await vault.load(img.dataset.photo);
    if (data) img.src = data;
  }
}

function findingForm(uid) {
  const v = view(state, uid);
  if (!v || v.state !== "on_site") return taskPage(uid);
  const error = el("div", { class: "invalid-feedback d-block", id: "finding-error" });
  const item = el("select", { class: "form-select", id: "f-item" }, el("option", { value: "" }, "（不对应检查项）"),
    v.checklist.map((i) => el("option", { value: i.code }, i.text)));
  const place = el("input", { class: "form-control", id: "f-place", maxlength: 200, required: true });
  const description = el("textarea", { class: "form-control", id: "f-description", rows: 4, maxlength: 4000, required: true });
  const major = el("input", { class: "form-check-input", id: "f-major", type: "checkbox" });
  const photo = el("input", { class: "form-control", id: "f-photo", type: "file", accept: "image/*", capture: "environment" });
  const pad = signaturePad("f-signature");
  const signer = el("input", { class: "form-control", id: "f-signer", maxlength: 50 });
  const role = el("select", { class: "form-select", id: "f-role" },
    Object.entries(ROLES).map(([code, text]) => el("option", { value: code }, text)));
  const locate = el("input", { class: "form-check-input", id: "f-locate", type: "checkbox", checked: true });
  return onSiteForm(uid, v, "记录问题", async () => {
    if (!place.value.trim() || !description.value.trim()) {
      error.textContent = "请填写地点和问题描述";
      return;
    }
    if (!pad.isEmpty() && !signer.value.trim()) {
      error.textContent = "请填写签字人姓名";
      return;
    }
    const where = locate.checked ? await position() : null;
    const change = record(state, {
      entity: "finding", action: "create", uid: crypto.randomUUID(), inspection_uid: uid,
      item_code: item.value, place: place.value.trim(), description: description.value.trim(),
      major: major.checked, ...(where || {}),
    });
    let note = "问题已记录。";
    if (photo.files.length) {
      try {
        const key = `photo:${change.uid}`;
        await vault.save(key, await photoDataUrl(photo.files[0]));
        addEvidence(state, change.uid, "photos", key);
      } catch (exc) {
        note = "照片无法读取，问题已记录（无照片）。";
      }
    }
    if (!pad.isEmpty()) {
      const key = `signature:${change.uid}`;
      await vault.save(key, pad.dataUrl());
      addEvidence(state, change.uid, "signatures", key, { signer: signer.value.trim(), role: role.value });
    }
    if (locate.checked && !where) note += "未能获取位置。";
    await persist();
    say(note === "问题已记录。" ? "success" : "warning", note);
    location.hash = `#/i/${uid}`;
    if (online()) sync();
    else render();
  }, [
    el("label", { class: "form-label", for: "f-item" }, "对应检查项"), item,
    el("label", { class: "form-label required mt-2", for: "f-place" }, "地点"), place,
    el("label", { class: "form-label required mt-2", for: "f-description" }, "问题描述"), description,
    el("label", { class: "form-check mt-2" }, major, el("span", { class: "form-check-label" }, "属于重大事故隐患")),
    el("label", { class: "form-label mt-2", for: "f-photo" }, "现场照片（可选）"), photo,
    el("label", { class: "form-check mt-2" }, locate, el("span", { class: "form-check-label" }, "记录当前位置（定位）")),
    el("fieldset", { class: "mt-3" },
      el("legend", { class: "form-label" }, "现场签字（可选）"),
      el("div", { class: "row g-2" },
        el("div", { class: "col-6" }, el("label", { class: "form-label small", for: "f-signer" }, "签字人"), signer),
        el("div", { class: "col-6" }, el("label", { class: "form-label small", for: "f-role" }, "身份"), role)),
      el("div", { class: "small text-secondary mt-1" }, "请在下框内签字"),
      pad.node,
      el("button", { class: "btn btn-sm btn-link", type: "button", id: "f-signature-clear", onclick: () => pad.clear() }, "清除签字")),
    error,
    el("button", { class: "btn btn-primary w-100 mt-3", id: "f-save", type: "submit" }, "保存"),
  ]);
}

// The page of a form about an inspection on site (记录问题, 结束检查): a way back to it, the
// title, the enterprise, and the form, whose submit runs `submit` instead of leaving the page.
function onSiteForm(uid, v, title, submit, children) {
  return el("main", { class: "t-main" },
    el("a", { href: `#/i/${uid}`, class: "t-back" }, "‹ 返回检查"),
    el("h1", { class: "t-h1" }, title),
    el("p", { class: "text-secondary" }, v.enterprise_name),
    el("form", {
      class: "card card-body",
      onsubmit: async (ev) => {
        ev.preventDefault();
        await submit();
      },
    }, children));
}

function finishForm(uid) {
  const v = view(state, uid);
  if (!v || v.state !== "on_site") return taskPage(uid);
  const error = el("div", { class: "invalid-feedback d-block", id: "finish-error" });
  const selects = v.checklist.map((i) => el("select", { class: "form-select form-select-sm f-result", "data-code": i.code },
    ["ok", "finding", "na"].map((r) => el("option", { value: r, selected: (i.result || "ok") === r }, label("results", r)))));
  const summary = el("textarea", { class: "form-control", id: "f-summary", rows: 4, maxlength: 4000, required: true });
  return onSiteForm(uid, v, "结束检查", async () => {
    if (!summary.value.trim()) {
      error.textContent = "请填写检查结论";
      return;
    }
    const results = Object.fromEntries(selects.map((s) => [s.dataset.code, s.value]));
    say("success", "检查已结束。");
    await act({ entity: "inspection", action: "finish", uid, summary: summary.value.trim(), results }, `#/i/${uid}`);
  }, [
    el("h2", { class: "card-title" }, "检查表结果"),
    el("ol", { class: "t-checklist" }, v.checklist.map((i, n) => el("li", { class: "t-item" },
      el("span", { class: "t-item-text" }, i.text), selects[n]))),
    el("label", { class: "form-label required mt-3", for: "f-summary" }, "检查结论"), summary, error,
    el("button", { class: "btn btn-success w-100 mt-3", id: "f-finish", type: "submit" }, "结束检查"),
  ]);
}

function describe(c) {
  if (c.action === "start") return `开始检查（${when(c.at)}）`;
  if (c.action === "finish") return `结束检查（${when(c.at)}）：${c.summary}`;
  return `记录问题：${c.place} — ${c.description}${c.major ? "（重大事故隐患）" : ""}`;
}

function side(title, cls, lines) {
  return el("div", { class: `t-side ${cls}` }, el("h3", {}, title), el("ul", {}, lines.map((l) => el("li", {}, l))));
}

function conflictsPage() {
  const groups = conflictGroups(state);
  if (!groups.length) {
    return el("main", { class: "t-main" }, el("a", { href: "#/", class: "t-back" }, "‹ 任务列表"),
      el("h1", { class: "t-h1" }, "冲突"), el("p", {}, "没有待处理的冲突。"));
  }
  const cards = groups.map((g) => {
    const s = g.server;
    const mine = pendingOf(state, g.uid);
    const dropped = droppedByServer(state, g);
    const keep = canKeepMine(g);
    return el("section", { class: "card mt-2 t-conflict", "data-uid": g.uid }, el("div", { class: "card-body" },
      el("h2", { class: "card-title" }, `冲突：${s.enterprise_name}`),
      el("p", { class: "text-secondary" }, "您离线记录期间，这项检查在服务器上已被修改（可能是检查组的其他成员）。两边的版本："),
      el("div", { class: "t-sides" },
        side("本机的记录", "t-client", mine.map(describe)),
        side("服务器上的版本", "t-server", [
          `状态：${label("states", s.state)}`,
          s.started_at ? `开始：${when(s.started_at)}` : null,
          s.finished_at ? `结束：${when(s.finished_at)}` : null,
          s.summary ? `检查结论：${s.summary}` : null,
          `检查发现 ${s.findings.length} 项${s.findings.length ? "：" + s.findings.map((f) => f.place).join("、") : ""}`,
        ].filter(Boolean))),
      el("div", { class: "t-choice mt-3" },
        el("button", {
          class: "btn btn-outline-danger", id: "take-server",
          onclick: async () => {
            const gone = takeServer(state, g);
            for (const c of gone) {
              for (const e of evidenceOf(state, c.uid)) {
                await vault.remove(e.key);
                state.evidence = state.evidence.filter((x) => x.id !== e.id);
              }
            }
            await persist();
            say("success", `已以服务器为准，丢弃本机记录 ${gone.length} 条。`);
            location.hash = state.conflicts.length ? "#/conflicts" : `#/i/${g.uid}`;
            if (!state.conflicts.length && state.queue.length && online()) sync();
            else render();
          },
        }, "以服务器为准"),
        el("div", { class: "small text-secondary" }, `将丢弃本机记录：${dropped.map(describe).join("；")}`),
        keep ? el("button", {
          class: "btn btn-primary mt-2", id: "keep-mine",
          onclick: async () => {
            keepMine(state, g);
            await persist();
            say("success", "已保留本机记录，正在重新上传…");
            location.hash = state.conflicts.length ? "#/conflicts" : `#/i/${g.uid}`;
            if (!state.conflicts.length && online()) sync();
            else render();
          },
        }, "保留我的修改") : el("div", { class: "alert alert-secondary mt-2 mb-0", id: "keep-mine-refused" },
          "服务器上这项检查已结束，本机的记录无法再提交，只能以服务器为准。"))));
  });
  return el("main", { class: "t-main" }, el("a", { href: "#/", class: "t-back" }, "‹ 任务列表"),
    el("h1", { class: "t-h1" }, "冲突"), cards);
}

function render() {
  if (!state) return;
  const hash = location.hash || "#/";
  let body;
  let m;
  if (hash === "#/conflicts") body = conflictsPage();
  else if ((m = hash.match(/^#\/i\/([0-9a-f-]{36})\/finding$/))) body = findingForm(m[1]);
  else if ((m = hash.match(/^#\/i\/([0-9a-f-]{36})\/finish$/))) body = finishForm(m[1]);
  else if ((m = hash.match(/^#\/i\/([0-9a-f-]{36})$/))) body = taskPage(m[1]);
  else body = taskList();
  const scroll = hash === shownHash ? window.scrollY : 0;
  shownHash = hash;
  mount(header(), banner(), body);
  window.scrollTo(0, scroll);
  showPhotos();
}

// --- start ------------------------------------------------------------------------------------

async function boot() {
  if (!window.isSecureContext || !window.crypto?.subtle || !window.indexedDB) {
    mount(el("div", { class: "t-center alert alert-danger" },
      "移动执法终端需要通过 HTTPS 打开（浏览器只在安全连接下提供离线和加密功能）。"));
    return;
  }
  if (pairing) return showPairing();
  if (!(await hasVault())) return showUnpaired();
  return showLocked();
}

window.addEventListener("hashchange", () => {
  if (state) render();
});
window.addEventListener("online", () => {
  if (state) {
    render();
    sync();
  }
});
window.addEventListener("offline", () => {
  if (state) render();
});

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/terminal/sw.js", { scope: "/terminal/" }).catch(() => {});
}
boot();
