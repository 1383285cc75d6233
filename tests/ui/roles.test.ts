import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Stack, startStack } from "../helpers/stack";
import { launch, openPage } from "./browser";

const REQUESTER = "req-key-0123456789abcdef";
const REVIEWER = "rev-key-0123456789abcdef";

let stack: Stack;
let browser: Browser;
let page: Page;
let flowId: string;

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    startStack({ API_KEYS: `alice:requester:${REQUESTER},bob:reviewer:${REVIEWER}` }),
    launch(),
  ]);
  ({ page } = await openPage(browser));
  const asked = await stack.call(
    "POST",
    "/v1/intents",
    { text: "check nginx on web1 and web2 and restart it where it is down" },
    { authorization: `Bearer ${REQUESTER}` },
  );
  expect(asked.status).toBe(201);
  flowId = asked.body.flow.id;
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

async function signIn(key: string): Promise<void> {
  await page.locator("#api-key").fill(key);
  await page.getByRole("button", { name: "Use this key" }).click();
}

describe("review UI with API keys", () => {
  test("asks for a key, refuses a wrong one, and keeps the right one for the session", async () => {
    await page.goto(`${stack.base}/ui/`);
    await page.locator("#api-key").waitFor();
    await signIn("not-a-key");
    await page.getByText("That key was refused").waitFor();
    await signIn(REQUESTER);
    await page.getByText("alice · requester").waitFor();
    await page.reload();
    await page.locator(`tr[data-flow="${flowId}"]`).waitFor();
  });

  test("a requester sees no Approve button, and the API refuses the approval", async () => {
    await page.goto(`${stack.base}/ui/flows/${flowId}/versions/1`);
    await page.getByRole("heading", { name: "Waiting for review" }).waitFor();
    expect(await page.getByRole("button", { name: "Approve" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Reject" }).count()).toBe(0);
    const status = await page.evaluate(async (path) => {
      const key = sessionStorage.getItem("intentflow.apiKey");
      const res = await fetch(path, { method: "POST", headers: { authorization: `Bearer ${key}` } });
      return res.status;
    }, `/v1/flows/${flowId}/versions/1/approve`);
    expect(status).toBe(403);
    expect(
      (
        await stack.call("GET", `/v1/flows/${flowId}/versions/1`, undefined, {
          authorization: `Bearer ${REQUESTER}`,
        })
      ).body.version.status,
    ).toBe("pending");
  });

  test("a reviewer approves, and a run streams live with the key in a header", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await signIn(REVIEWER);
    await page.getByText("bob · reviewer").waitFor();
    await page.goto(`${stack.base}/ui/flows/${flowId}/versions/1`);
    await page.getByRole("button", { name: "Approve" }).click();
    await page.getByRole("button", { name: "Start a run" }).click();
    await page.locator(".live", { hasText: "Finished: succeeded." }).waitFor({ timeout: 20_000 });
    const v = await stack.call("GET", `/v1/flows/${flowId}/versions/1`, undefined, {
      authorization: `Bearer ${REVIEWER}`,
    });
    expect(v.body.version).toMatchObject({ status: "approved", approvedBy: "bob" });
  });
});
