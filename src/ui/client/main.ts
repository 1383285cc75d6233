/// <reference lib="dom" />
import { HttpError, api, apiKey } from "./api";
import { h, replace } from "./dom";
import { flowPage } from "./flow";
import { inboxPage } from "./inbox";
import { runPage, runsPage } from "./runs";
import type { Me } from "./types";

/** The pages' shell: who is signed in, navigation, and a router over /ui/… paths. */

export type Page = { title: string; body: HTMLElement; dispose?: () => void };
export type Ctx = { me: Me; go: (path: string) => void; main: HTMLElement };

const main = h("main", { id: "main", tabindex: -1 });
const nav = h("nav", { "aria-label": "Main" });
let dispose: (() => void) | undefined;
let me: Me | undefined;

const routes: [RegExp, (ctx: Ctx, m: RegExpMatchArray) => Promise<Page>][] = [
  [/^\/ui\/?$/, (ctx) => inboxPage(ctx)],
  [
    /^\/ui\/flows\/([^/]+)\/versions\/(\d+)$/,
    (ctx, m) => flowPage(ctx, decodeURIComponent(m[1]!), Number(m[2])),
  ],
  [/^\/ui\/runs\/?$/, (ctx) => runsPage(ctx)],
  [/^\/ui\/runs\/([^/]+)$/, (ctx, m) => runPage(ctx, decodeURIComponent(m[1]!))],
];

function go(path: string): void {
  history.pushState(null, "", path);
  void render();
}

function keyPrompt(message: string): HTMLElement {
  const input = h("input", { id: "api-key", type: "password", autocomplete: "off", required: true });
  return h(
    "form",
    {
      class: "card key-form",
      onsubmit: (e: Event) => {
        e.preventDefault();
        apiKey.set(input.value.trim());
        me = undefined;
        void render();
      },
    },
    h("h1", {}, "Sign in"),
    h("p", {}, message),
    h("label", { for: "api-key" }, "API key"),
    input,
    h("button", { type: "submit", class: "primary" }, "Use this key"),
  );
}

function header(who: Me): void {
  replace(
    nav,
    h("a", { href: "/ui/", class: "brand" }, "intentflow"),
    h("a", { href: "/ui/" }, "Review inbox"),
    h("a", { href: "/ui/runs" }, "Runs"),
    h("span", { class: "who" }, `${who.name} · ${who.role}`),
    apiKey.get()
      ? h(
          "button",
          {
            type: "button",
            onclick: () => {
              apiKey.clear();
              me = undefined;
              void render();
            },
          },
          "Sign out",
        )
      : null,
  );
}

async function render(): Promise<void> {
  dispose?.();
  dispose = undefined;
  try {
    me ??= await api.me();
  } catch (e) {
    replace(nav);
    const bad = e instanceof HttpError && e.status === 401;
    replace(
      main,
      keyPrompt(
        bad && apiKey.get() ? "That key was refused. Enter another." : "This service needs an API key.",
      ),
    );
    document.title = "Sign in · intentflow";
    return;
  }
  header(me);
  const path = location.pathname;
  const route = routes.find(([re]) => re.test(path));
  replace(main, h("p", { class: "loading" }, "Loading…"));
  try {
    const page = route
      ? await route[1]({ me, go, main }, path.match(route[0])!)
      : { title: "Not found", body: h("p", {}, "No page here.") };
    document.title = `${page.title} · intentflow`;
    replace(main, page.body);
    dispose = page.dispose;
    if (!location.hash) main.focus({ preventScroll: true });
  } catch (e) {
    if (e instanceof HttpError && e.status === 401) {
      me = undefined;
      return void render();
    }
    replace(
      main,
      h("p", { class: "error", role: "alert" }, `Could not load this page: ${(e as Error).message}`),
    );
  }
}

document.addEventListener("click", (e) => {
  const a = (e.target as Element).closest?.("a");
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith("/ui")) return;
  if (url.pathname === location.pathname && url.hash) return;
  e.preventDefault();
  go(url.pathname + url.search);
});
window.addEventListener("popstate", () => void render());

document.body.append(h("a", { href: "#main", class: "skip" }, "Skip to content"), h("header", {}, nav), main);
void render();
