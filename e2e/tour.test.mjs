// Browser tests of the tour's predict-first questions, by keyboard only: Tab reaches the
// choices, Enter and Space pick one, the feedback and the explanation appear, Next moves on to
// an unanswered question; `reveal=1` skips the questions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, openPage, screenshot, tourSteps } from './lib.mjs';

let srv;
let browser;
before(async () => {
  srv = await startServer();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await srv?.close();
});

/** The focused element's data-testid (or a short description of it). */
const focused = (page) =>
  page.evaluate(() => {
    const e = document.activeElement;
    return e?.dataset?.testid || (e ? `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}` : 'none');
  });

/** Presses Tab until `testid` has the focus, at most `max` times; fails with the path taken. */
async function tabTo(page, testid, max) {
  const path = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    path.push(f);
    if (f === testid) return i + 1;
  }
  assert.fail(`Tab did not reach ${testid} in ${max} presses: ${path.join(' → ')}`);
}

/** The open question's state: its answer, the choices' texts and pressed states, the feedback. */
const questionState = (page) =>
  page.evaluate(() => {
    const q = (id) => document.querySelector(`[data-testid="${id}"]`);
    const fs = q('tour-question');
    const choices = fs ? [...fs.querySelectorAll('[data-testid^="tour-choice-"]')] : [];
    return {
      step: q('tour-step')?.textContent,
      answer: fs ? Number(fs.dataset.answer) : null,
      choices: choices.map((c) => c.textContent.trim()),
      pressed: choices.map((c) => c.getAttribute('aria-pressed')),
      right: choices.map((c) => c.classList.contains('right')),
      feedback: q('tour-feedback')?.textContent.trim() ?? null,
      hidden: !!q('tour-hidden'),
      text: q('tour-text')?.textContent ?? null,
    };
  });

function assertUnanswered(s, where) {
  assert.ok(s.choices.length >= 2, `${where}: a question with choices (${JSON.stringify(s)})`);
  assert.ok(Number.isInteger(s.answer) && s.answer >= 0 && s.answer < s.choices.length, `${where}: data-answer ${s.answer}`);
  assert.ok(s.pressed.every((p) => p === 'false'), `${where}: no choice pressed`);
  assert.ok(s.right.every((r) => !r), `${where}: no choice marked`);
  assert.equal(s.feedback, '', `${where}: no feedback yet`);
  assert.ok(s.hidden, `${where}: the hint stands in for the explanation`);
  assert.equal(s.text, null, `${where}: the explanation is hidden`);
}

test('the tour by keyboard only: Tab to the choices, Enter/Space answers, feedback and explanation appear, Next asks afresh', async () => {
  const n = tourSteps().length;
  const { page, context, errors } = await openPage(browser, srv.base);
  // From the top of the page, Tab to "Guided tour" and open it with Enter.
  await tabTo(page, 'tour-start', 40);
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid="tour"]');
  let s = await questionState(page);
  assert.equal(s.step, `Step 1 of ${n}`);
  assertUnanswered(s, 'step 1');
  // The choices are the next stops: the tour panel takes the focus when it opens.
  await tabTo(page, 'tour-choice-0', 3);
  // A wrong choice first (Space): the feedback names the right one, which is data-answer.
  const wrong = (s.answer + 1) % s.choices.length;
  for (let k = 0; k < wrong; k++) await page.keyboard.press('Tab');
  assert.equal(await focused(page), `tour-choice-${wrong}`);
  await page.keyboard.press('Space');
  await page.waitForSelector('[data-testid="tour-text"]');
  s = await questionState(page);
  assert.equal(s.feedback, `Not quite: the answer is “${s.choices[s.answer]}”.`);
  assert.equal(s.pressed[wrong], 'true');
  assert.ok(s.right[s.answer], 'the right choice is marked');
  assert.ok(!s.hidden && s.text.length > 40, `the explanation shows: ${s.text}`);
  // Next (by keyboard) moves on to a fresh, unanswered question.
  await tabTo(page, 'tour-next', 2 * s.choices.length + 8);
  await page.keyboard.press('Enter');
  await page.waitForFunction((want) => document.querySelector('[data-testid="tour-step"]').textContent === want, `Step 2 of ${n}`);
  s = await questionState(page);
  assertUnanswered(s, 'step 2');
  // Now the right choice, with Enter.
  await tabTo(page, `tour-choice-${s.answer}`, s.answer + 3);
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid="tour-text"]');
  s = await questionState(page);
  assert.equal(s.feedback, 'Right.');
  assert.equal(s.pressed[s.answer], 'true');
  assert.ok(s.right[s.answer]);
  assert.ok(!s.hidden && s.text.length > 40, `the explanation shows: ${s.text}`);
  await screenshot(page, 'tour-answered.png');
  // And Previous, by keyboard, asks step 1 again.
  await tabTo(page, 'tour-prev', 2 * s.choices.length + 8);
  await page.keyboard.press('Enter');
  await page.waitForFunction((want) => document.querySelector('[data-testid="tour-step"]').textContent === want, `Step 1 of ${n}`);
  assertUnanswered(await questionState(page), 'step 1 again');
  assert.deepEqual(errors, []);
  await context.close();
});

test('?tour=2&reveal=1 shows the explanation at once, with no question', async () => {
  const { page, context, errors } = await openPage(browser, `${srv.base}?tour=2&reveal=1`);
  await page.waitForSelector('[data-testid="tour-text"]');
  assert.equal(await page.textContent('[data-testid="tour-step"]'), `Step 2 of ${tourSteps().length}`);
  assert.equal(await page.$('[data-testid="tour-question"]'), null);
  assert.equal(await page.$('[data-testid="tour-hidden"]'), null);
  assert.ok((await page.textContent('[data-testid="tour-text"]')).length > 40);
  // Without reveal the same step asks first.
  await page.goto(`${srv.base}?tour=2`);
  await page.waitForSelector('[data-testid="tour-question"]');
  assert.equal(await page.$('[data-testid="tour-text"]'), null);
  assert.deepEqual(errors, []);
  await context.close();
});
