// Driven by proxy_toxiproxy_client.sh: a real Toxiproxy client (the npm
// package toxiproxy-node-client, unchanged) against `chaosrun proxy
// --toxiproxy-api`.  argv: API URL, upstream port (an HTTP service).
// Prints "ok: ..." / "FAIL: ..." lines and exits 1 when any failed.
"use strict";
const http = require("http");
const { Toxiproxy, ToxiproxyError } = require("toxiproxy-node-client");

const [api, upstreamPort] = process.argv.slice(2);
let fails = 0, passes = 0;
function check(what, cond, detail) {
    if (cond) { passes++; console.log(`ok: ${what}${detail !== undefined ? ` (${detail})` : ""}`); }
    else { fails++; console.log(`FAIL: ${what}${detail !== undefined ? ` (${detail})` : ""}`); }
}

// One GET through the proxy: seconds, or null (refused, reset, bad status).
function through(port) {
    return new Promise((resolve) => {
        const t0 = process.hrtime.bigint();
        const req = http.get({ host: "127.0.0.1", port, path: "/", agent: false, timeout: 10000 }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode === 200 ? Number(process.hrtime.bigint() - t0) / 1e9 : null));
        });
        req.on("error", () => resolve(null));
        req.on("timeout", () => { req.destroy(); resolve(null); });
    });
}
async function median5(port) {
    const ts = [];
    for (let i = 0; i < 5; i++) ts.push(await through(port));
    if (ts.includes(null)) return null;
    return ts.sort((a, b) => a - b)[2];
}
const portOf = (listen) => Number(listen.slice(listen.lastIndexOf(":") + 1));

async function main() {
    const tp = new Toxiproxy(api);

    const version = JSON.parse(await tp.getVersion()).version;
    check("getVersion", /^2\./.test(version), version);

    // createProxy as the client's README does ("localhost:PORT").
    const proxy = await tp.createProxy({ name: "node_web", listen: "localhost:0", upstream: `127.0.0.1:${upstreamPort}` });
    const lp = portOf(proxy.listen);
    check("createProxy", proxy.name === "node_web" && proxy.enabled === true && lp > 0, proxy.listen);
    const base = await median5(lp);
    check("relays a request", base !== null, base);

    // addToxic: latency, downstream; its effect through the link.
    const toxic = await proxy.addToxic({ name: "lat", type: "latency", stream: "downstream", toxicity: 1, attributes: { latency: 300, jitter: 0 } });
    check("addToxic", toxic.name === "lat" && toxic.type === "latency" && toxic.attributes.latency === 300 &&
        toxic.toxicity === 1 && toxic.stream === "downstream", JSON.stringify(toxic.toJson()));
    const t1 = await median5(lp);
    check("latency 300 ms: >= 0.3 s through the link", t1 !== null && t1 >= 0.3, t1);
    check("latency: >= 3x without it", t1 !== null && t1 >= 3 * base, `${t1} vs ${base}`);

    // getToxic, then toxic.update as the client sends it.
    const got = await proxy.getToxic("lat");
    check("getToxic", got.attributes.latency === 300 && got.attributes.jitter === 0, JSON.stringify(got.attributes));
    const upd = await got.update({ ...got.toJson(), attributes: { latency: 900, jitter: 0 } });
    check("toxic.update", upd.attributes.latency === 900, JSON.stringify(upd.attributes));
    const t2 = await through(lp);
    check("updated latency 900 ms: >= 0.9 s", t2 !== null && t2 >= 0.9, t2);

    // An attribute chaosrun cannot honour: the client sees the 400.
    let err = null;
    try {
        await proxy.addToxic({ name: "bad", type: "latency", stream: "downstream", toxicity: 1, attributes: { latency: 1, lantecy: 2 } });
    } catch (e) { err = e; }
    check("unknown attribute: the client throws its error for a 400",
        err instanceof ToxiproxyError && /status code 400/.test(err.message), err && err.message);

    // toxic.remove: fast again.
    await upd.remove();
    const t3 = await median5(lp);
    check("toxic.remove: under half the toxic's time", t3 !== null && 2 * t3 < t2, `${t3} vs ${t2}`);

    // proxy.update: disable (refused), enable (relays on the same port).
    const off = await proxy.update({ ...proxy.toJson(), enabled: false });
    check("proxy.update enabled=false", off.enabled === false);
    check("disabled: refused", (await through(lp)) === null);
    const on = await off.update({ ...off.toJson(), enabled: true });
    check("proxy.update enabled=true", on.enabled === true && portOf(on.listen) === lp, on.listen);
    check("enabled: relays", (await through(lp)) !== null);

    // getAll, get, populate, reset.
    await on.addToxic({ name: "t", type: "timeout", stream: "upstream", toxicity: 1, attributes: { timeout: 0 } });
    const pop = await tp.populate([{ name: "node_api", listen: "127.0.0.1:0", upstream: `127.0.0.1:${upstreamPort}` }]);
    check("populate", pop.node_api && portOf(pop.node_api.listen) > 0, pop.node_api && pop.node_api.listen);
    check("populated proxy relays", (await through(portOf(pop.node_api.listen))) !== null);
    const all = await tp.getAll();
    check("getAll", Object.keys(all).sort().join(",") === "node_api,node_web", Object.keys(all).join(","));
    await tp.reset();
    const raw = (await tp.getApi().get(`${api}/proxies/node_web`)).data;
    check("reset: toxics removed", raw.toxics.length === 0 && raw.enabled === true, JSON.stringify(raw.toxics));

    // remove; get of a removed proxy is an error.
    await (await tp.get("node_web")).remove();
    await all.node_api.remove();
    err = null;
    try { await tp.get("node_web"); } catch (e) { err = e; }
    check("removed: get throws (404)", err instanceof ToxiproxyError && /404/.test(err.message), err && err.message);
    check("removed: port closed", (await through(lp)) === null);
    check("getAll after removal", Object.keys(await tp.getAll()).length === 0);
}

main().catch((e) => { fails++; console.log(`FAIL: unexpected error: ${e && e.stack ? e.stack : e}`); })
    .finally(() => {
        console.log(`${passes} passed, ${fails} failed`);
        process.exit(fails ? 1 : 0);
    });
