/* global document */
// What every view shares with the page around it: who is logged in, the notice bar, and running an action.
import { ApiError } from './api.js';

let user; // /api/whoami of the logged-in user
let refresher = async () => {};

export function setUser(whoami) {
  user = whoami;
}

/** Tags that grant more include the weaker ones, as in the broker's own check. */
const RANK = { management: 1, policymaker: 2, monitoring: 3, administrator: 4 };
export const hasTag = (tag) => Math.max(0, ...(user?.tags ?? []).map((t) => RANK[t] ?? 0)) >= RANK[tag];

/** The page's refresh, which an action runs when it is done so its effect shows at once. */
export function setRefresher(fn) {
  refresher = fn;
}

let navigator = () => {};

/** How the app moves to another view without a hashchange round trip (see navigate). */
export function setNavigator(fn) {
  navigator = fn;
}

/**
 * Shows another view at once, as an action's last step (after deleting a queue, its list): the old view
 * must not poll again for an object that is gone.
 */
export const navigate = (hash) => navigator(hash);

/** A line in the notice bar: what an action did, or why it failed. */
export function notify(text, kind = 'ok') {
  const notice = document.getElementById('notice');
  notice.dataset.kind = kind;
  notice.textContent = text;
}

export const reasonOf = (err) => (err instanceof ApiError ? `${err.status}: ${err.message}` : err.message);

/** Whether an error is a 401, which the app already answered by going back to the login form. */
export const loggedOut = (err) => err instanceof ApiError && err.status === 401;

/** Runs an action from a button or form: reports its outcome in the notice bar, then refreshes the view. */
export async function act(action, done) {
  try {
    const result = await action();
    notify(typeof done === 'function' ? done(result) : (done ?? 'Done.'));
    await refresher();
  } catch (err) {
    if (!loggedOut(err)) notify(reasonOf(err), 'error');
  }
}
