// Builds the checkout bundle:
//   1. generates the posd.v1 client code from proto/ with protoc and
//      @bufbuild/protoc-gen-es into src/gen/ (never edited by hand),
//   2. type-checks everything with tsc,
//   3. bundles the page and the SharedWorker with esbuild into dist/, each
//      asset named by its content hash (served `immutable`) and referenced
//      from index.html (the entry, served `no-cache`),
//   4. bundles the unit tests into build/test/ (node --test runs them).
//
//   node build.mjs                  all of it
//   node build.mjs --generate-only  step 1
//   node build.mjs --out DIR        bundle into DIR instead of dist/
//   node build.mjs --tests-out DIR  unit tests into DIR instead of build/test/
//
// Needs protoc (Debian: protobuf-compiler, 3.21 is fine) on PATH.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const nodeMajor = Number(process.versions.node.split(".")[0]);
if (nodeMajor < 20) {
  console.error(`build: Node.js ${process.versions.node} is too old; the checkout needs Node.js 20 or newer`);
  process.exit(1);
}

const here = dirname(fileURLToPath(import.meta.url));
const protoRoot = resolve(here, "../../proto");
const generated = join(here, "src/gen");

function argValue(name) {
  const index = process.argv.indexOf(name);
  return index < 0 ? undefined : process.argv[index + 1];
}

function generate() {
  rmSync(generated, { recursive: true, force: true });
  mkdirSync(generated, { recursive: true });
  const protos = readdirSync(join(protoRoot, "posd/v1"))
    .filter((name) => name.endsWith(".proto"))
    .map((name) => `posd/v1/${name}`);
  runOrExit("protoc", [
    `--plugin=protoc-gen-es=${join(here, "node_modules/.bin/protoc-gen-es")}`,
    `--es_out=${generated}`,
    "--es_opt=target=ts",
    `-I${protoRoot}`,
    ...protos,
  ]);
}

// Runs a tool; its own messages say what went wrong, so only they show.
function runOrExit(command, args) {
  try {
    execFileSync(command, args, { stdio: "inherit" });
  } catch (error) {
    console.error(`build: ${command} failed${error.code === "ENOENT" ? " (not installed?)" : ""}`);
    process.exit(1);
  }
}

function typecheck() {
  runOrExit(join(here, "node_modules/.bin/tsc"), ["--noEmit", "-p", here]);
}

const common = {
  bundle: true,
  format: "esm",
  target: ["chrome100"],
  minify: true,
  sourcemap: false,
  legalComments: "none",
  logLevel: "warning",
  write: false,
};

// One output file of an esbuild result, named NAME-HASH.EXT after its bytes.
function hashedName(prefix, extension, contents) {
  const hash = createHash("sha256").update(contents).digest("hex").slice(0, 16);
  return `${prefix}-${hash}.${extension}`;
}

async function bundle(outDir) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const written = [];
  const write = (name, contents) => {
    writeFileSync(join(outDir, name), contents);
    written.push(name);
  };

  // The worker first: the page names it, so the page's hash covers it.
  const worker = await esbuild.build({ ...common, format: "iife", entryPoints: [join(here, "src/worker.ts")] });
  const workerName = hashedName("events-worker", "js", worker.outputFiles[0].contents);
  write(workerName, worker.outputFiles[0].contents);

  const app = await esbuild.build({
    ...common,
    entryPoints: [join(here, "src/main.ts")],
    define: { POSD_EVENTS_WORKER_URL: JSON.stringify(`./${workerName}`) },
  });
  const appName = hashedName("checkout", "js", app.outputFiles[0].contents);
  write(appName, app.outputFiles[0].contents);

  const css = await esbuild.build({ ...common, entryPoints: [join(here, "src/styles.css")], format: undefined });
  const cssName = hashedName("checkout", "css", css.outputFiles[0].contents);
  write(cssName, css.outputFiles[0].contents);

  const html = readFileSync(join(here, "src/index.html"), "utf8")
    .replace("{{STYLES}}", `./${cssName}`)
    .replace("{{SCRIPT}}", `./${appName}`);
  write("index.html", html);
  return written;
}

async function bundleTests(outDir) {
  rmSync(outDir, { recursive: true, force: true });
  const tests = readdirSync(join(here, "test")).filter((name) => name.endsWith(".test.ts"));
  await esbuild.build({
    ...common,
    minify: false,
    write: true,
    platform: "node",
    target: ["node20"],
    entryPoints: tests.map((name) => join(here, "test", name)),
    outdir: outDir,
    outExtension: { ".js": ".mjs" },
    define: { POSD_EVENTS_WORKER_URL: JSON.stringify("./events-worker.js") },
  });
}

generate();
if (!process.argv.includes("--generate-only")) {
  typecheck();
  const outDir = resolve(argValue("--out") ?? join(here, "dist"));
  const files = await bundle(outDir);
  await bundleTests(resolve(argValue("--tests-out") ?? join(here, "build/test")));
  console.log(`checkout bundle in ${outDir}: ${files.join(" ")}`);
}
