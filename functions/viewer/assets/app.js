// The archive viewer: screens over the REST API, plain DOM, no framework. What a screen offers
// follows the scopes of the reader's token (`GET /me`, see `can`).
//
// Safety rules this file keeps:
// - the API token lives in sessionStorage only (gone with the tab) and is sent as the bearer
//   header of API calls, never in a URL;
// - text from the archive is only ever set as text (textContent, attribute values), never
//   parsed as HTML;
// - archived e-mail HTML is shown only as the srcdoc of a frame sandboxed without scripts,
//   forms, popups or an origin of its own (and the page's CSP applies inside it as well).

const TOKEN_KEY = 'ctm-viewer-token';
const CLIENTS_PAGE = 25;
const TRANSACTIONS_PAGE = 50;
const ACCESS_PAGE = 20;
const SEARCH_PAGE = 20;

const main = document.getElementById('main');
const crumbs = document.getElementById('crumbs');
const signOutButton = document.getElementById('sign-out');
const who = document.getElementById('who');

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

class SignedOut extends Error {}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** An element with attributes (`on…` ones become listeners) and text or element children. */
function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value == null || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** Replaces `element`'s children; `null` and `false` are left out, as `h()` does (the DOM's
 * own `replaceChildren` would write them as text). */
function fill(element, ...children) {
  element.replaceChildren(...children.flat().filter((child) => child != null && child !== false)
    .map((child) => (child instanceof Node ? child : String(child))));
}

const enc = encodeURIComponent;
const token = () => sessionStorage.getItem(TOKEN_KEY);
const formatDate = (iso) => (iso ? dateTime.format(new Date(iso)) : '—');
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
const time = (iso, format = dateTime) =>
  iso ? h('time', { datetime: iso }, format.format(new Date(iso))) : '—';

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

// ---- API -------------------------------------------------------------------------------

let signInMessage = '';

/** A JSON answer of the API (or the raw response); a 401 signs the reader out. `body`, when
 * given, is sent as JSON (with `method`, PUT say). */
async function api(path, { raw = false, method = 'GET', body } = {}) {
  const bearer = token();
  if (!bearer) throw new SignedOut();
  const headers = { Authorization: `Bearer ${bearer}`, Accept: raw ? '*/*' : 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    throw new ApiError(0, 'The archive could not be reached. Check the connection and try again.');
  }
  if (response.status === 401) {
    signOut('The archive refused this token (401). Sign in again with a valid API token.');
    throw new SignedOut();
  }
  if (!response.ok) {
    let message = `The archive answered ${response.status}.`;
    try {
      const body = await response.json();
      if (body && body.error && body.error.message) message = `${body.error.message} (${response.status})`;
    } catch {
      // not the JSON error shape: keep the status
    }
    throw new ApiError(response.status, message);
  }
  return raw ? response : response.json();
}

/** Every item of a paged list, following `next` (at most `maxPages` pages). */
async function allPages(path, limit, maxPages) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < maxPages; page += 1) {
    const query = new URLSearchParams({ limit });
    if (cursor) query.set('cursor', cursor);
    const answer = await api(`${path}?${query}`);
    items.push(...answer.items);
    cursor = answer.next;
    if (!cursor) break;
  }
  return items;
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  identity = null;
  exportsRequested.clear();
  signInMessage = message || '';
  render();
}

// ---- the token's name and scopes -------------------------------------------------------

/** `GET /me` of the token in use: `{ token, name, scopes }`, null until known. */
let identity = null;

/** What the API answered `GET /me` for the token in this tab (asked once per token). */
async function loadIdentity() {
  const bearer = token();
  if (identity && identity.token === bearer) return identity;
  const me = await api('/me');
  identity = { token: bearer, name: String(me.name || ''), scopes: Array.isArray(me.scopes) ? me.scopes.map(String) : [] };
  return identity;
}

/** Whether the token in use has `scope` (read, write, erase, export, audit). The API refuses
 * what a token may not do anyway (403); the viewer only hides what would be refused. */
function can(scope) {
  return Boolean(identity && identity.token === token() && identity.scopes.includes(scope));
}

/** The header's "who": the token's name and its scopes, as text. */
function showWho() {
  const known = identity && identity.token === token();
  who.hidden = !known;
  if (!known) {
    who.replaceChildren();
    return;
  }
  fill(who,
    h('span', { class: 'visually-hidden' }, 'Signed in with the token '),
    h('span', { class: 'token-name', dir: 'auto' }, identity.name),
    identity.scopes.length
      ? h('ul', { class: 'scopes', 'aria-label': 'Scopes' }, identity.scopes.map((scope) => h('li', {}, scope)))
      : h('span', { class: 'scopes' }, 'no scopes'),
  );
}

signOutButton.addEventListener('click', () => signOut('You signed out.'));

// ---- routing ---------------------------------------------------------------------------

let generation = 0;
let cleanups = [];

/** `#/`, `#/clients?prefix=…`, `#/clients/<identifier>`, `#/tickets/<id>` (with
 * `?transaction=<id>` to show the message a search found), `#/search?q=…&channel=…&from=…&to=…`;
 * other hashes (the skip link's `#main`) are in-page anchors, not routes. */
function route() {
  const hash = location.hash || '#/';
  if (!hash.startsWith('#/')) return null;
  const [path, query] = hash.slice(1).split('?');
  const params = new URLSearchParams(query || '');
  try {
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts.length === 2 && parts[0] === 'clients') return { view: 'client', id: parts[1] };
    if (parts.length === 2 && parts[0] === 'tickets') {
      return { view: 'ticket', id: parts[1], transaction: params.get('transaction') || null };
    }
    if (parts.length === 1 && parts[0] === 'search') return { view: 'search', search: searchOf(params) };
  } catch {
    // a malformed escape: fall back to the client list
  }
  return { view: 'clients', prefix: params.get('prefix') || '' };
}

/** Whether a view started in `gen` is still the one on screen. */
const current = (gen) => gen === generation;

async function render() {
  const target = route();
  if (!target) return;
  generation += 1;
  const gen = generation;
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
  signOutButton.hidden = !token();
  showWho();
  if (!token()) {
    showSignIn();
    return;
  }
  main.setAttribute('aria-busy', 'true');
  fill(main, h('p', { class: 'loading' }, 'Loading…'));
  try {
    await loadIdentity();
    if (!current(gen)) return;
    showWho();
    if (!can('read')) showCannotRead();
    else if (target.view === 'client') await showClient(target.id, gen);
    else if (target.view === 'ticket') await showTicket(target.id, gen, target.transaction);
    else if (target.view === 'search') await showSearch(target.search, gen);
    else await showClients(target.prefix, gen);
  } catch (error) {
    if (error instanceof SignedOut || !current(gen)) return;
    fill(main,
      h('h1', { tabindex: -1 }, 'This page could not be shown'),
      h('p', { class: 'error', role: 'alert' }, error.message),
      h('p', {}, h('a', { href: '#/' }, 'Back to the clients')),
    );
    focusHeading();
  } finally {
    if (current(gen)) main.removeAttribute('aria-busy');
  }
}

function focusHeading() {
  const heading = main.querySelector('h1');
  if (heading) heading.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

function setCrumbs(...items) {
  fill(crumbs,
    h('ol', {}, items.map(([label, href]) =>
      h('li', {}, href ? h('a', { href, dir: 'auto' }, label) : h('span', { 'aria-current': 'page', dir: 'auto' }, label)))),
  );
}

/** An object URL for this view, revoked when the view goes. */
function objectUrl(blob) {
  const url = URL.createObjectURL(blob);
  cleanups.push(() => URL.revokeObjectURL(url));
  return url;
}

// ---- sign-in ---------------------------------------------------------------------------

function showSignIn() {
  crumbs.replaceChildren();
  const input = h('input', {
    id: 'token', name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false',
    required: true, 'aria-describedby': 'token-help sign-in-message',
  });
  const message = h('p', { id: 'sign-in-message', class: 'error', role: 'alert' }, signInMessage);
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h('form', {
    class: 'card sign-in',
    onsubmit: async (event) => {
      event.preventDefault();
      const value = input.value.trim();
      if (!value) return;
      sessionStorage.setItem(TOKEN_KEY, value);
      signInMessage = '';
      button.disabled = true;
      message.textContent = 'Checking the token…';
      try {
        await loadIdentity();
      } catch (error) {
        if (error instanceof SignedOut) return;
        sessionStorage.removeItem(TOKEN_KEY);
        message.textContent = error.message;
        button.disabled = false;
        return;
      }
      render();
    },
  },
  h('h1', { tabindex: -1 }, 'Sign in'),
  h('label', { for: 'token' }, 'API token'),
  input,
  h('p', { id: 'token-help', class: 'hint' },
    'Paste one of the API tokens. It stays in this browser tab only and is sent with each request to the archive.'),
  button,
  message);
  fill(main, form);
  input.focus();
}

/** A token without `read` (an auditor's, say) is valid but sees no archived data here. */
function showCannotRead() {
  setCrumbs(['No access to the archive']);
  fill(main,
    h('h1', { tabindex: -1 }, 'This token cannot read the archive'),
    h('p', {}, 'The token ', h('strong', { dir: 'auto' }, identity.name), ' is valid, but it may not read clients, tickets or their files (it has no ',
      h('code', {}, 'read'), ' scope). Sign out and sign in with a token that may read the archive.'),
    can('audit')
      ? h('p', { class: 'hint' }, 'With its audit scope it can read the access log through the API (GET /access-log).')
      : null,
  );
  focusHeading();
}

// ---- clients ---------------------------------------------------------------------------

async function showClients(prefix, gen) {
  setCrumbs(['Archive']);
  const input = h('input', {
    id: 'prefix', name: 'prefix', type: 'search', value: prefix, autocomplete: 'off',
    spellcheck: 'false', dir: 'auto', 'aria-describedby': 'prefix-help',
  });
  const results = h('div', { id: 'results', class: 'results' });
  let typing;
  let loads = 0;

  const search = (value) => {
    const wanted = value.trim();
    const target = wanted ? `#/clients?prefix=${enc(wanted)}` : '#/';
    // Replacing the entry does not fire hashchange: the search box keeps its focus.
    if (location.hash !== target) history.replaceState(null, '', target);
    load(wanted, []);
  };

  async function load(wanted, cursors) {
    loads += 1;
    const mine = loads;
    const query = new URLSearchParams({ limit: CLIENTS_PAGE });
    if (wanted) query.set('prefix', wanted);
    if (cursors.length) query.set('cursor', cursors[cursors.length - 1]);
    results.setAttribute('aria-busy', 'true');
    let page;
    try {
      page = await api(`/clients?${query}`);
    } catch (error) {
      if (error instanceof SignedOut || !current(gen) || mine !== loads) return;
      fill(results, h('p', { class: 'error', role: 'alert' }, error.message));
      results.removeAttribute('aria-busy');
      return;
    }
    if (!current(gen) || mine !== loads) return;
    results.removeAttribute('aria-busy');
    const found = page.items.length
      ? h('ol', { class: 'rows clients' }, page.items.map((client) => h('li', {},
        h('a', { class: 'row', href: `#/clients/${enc(client.identifier)}` },
          h('span', { class: 'identifier', dir: 'ltr' }, client.identifier),
          h('span', { class: 'name', dir: 'auto' }, client.name || 'no name'),
          h('span', { class: 'count' }, plural(client.tickets.length, 'ticket')),
          holdBadge(client.legalHold)))))
      : h('p', { class: 'empty' }, wanted ? `No client identifier starts with “${wanted}”.` : 'No clients yet.');
    const pager = h('nav', { class: 'pager', 'aria-label': 'Pages of clients' },
      cursors.length ? h('button', { type: 'button', onclick: () => load(wanted, cursors.slice(0, -1)) }, '← Previous page') : null,
      h('span', { class: 'page-number' }, `Page ${cursors.length + 1}`),
      page.next ? h('button', { type: 'button', onclick: () => load(wanted, [...cursors, page.next]) }, 'Next page →') : null);
    fill(results,
      h('p', { class: 'summary', role: 'status' }, page.items.length
        ? `${plural(page.items.length, 'client')} on this page${wanted ? ` starting with “${wanted}”` : ''}.`
        : ''),
      found,
      pager,
    );
  }

  fill(main,
    h('h1', { tabindex: -1 }, 'Search the archive'),
    ticketSearchForm(searchOf(new URLSearchParams()), { heading: 'Tickets by what was said' }),
    h('h2', { id: 'clients-heading' }, 'Clients by identifier'),
    h('form', {
      class: 'search',
      role: 'search',
      'aria-labelledby': 'clients-heading',
      onsubmit: (event) => {
        event.preventDefault();
        clearTimeout(typing);
        search(input.value);
      },
    },
    h('label', { for: 'prefix' }, 'Identifier starts with'),
    h('div', { class: 'inline' }, input, h('button', { type: 'submit' }, 'Search')),
    h('p', { id: 'prefix-help', class: 'hint' },
      'Phone digits (e.g. 97252…) or the start of an e-mail address, exactly as archived (case matters).')),
    results,
  );
  input.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => search(input.value), 350);
  });
  cleanups.push(() => clearTimeout(typing));
  focusHeading();
  await load(prefix, []);
}

// ---- search: tickets by what was said (GET /tickets) ------------------------------------

/** The channels Glassix documents for a participant (a ticket's channel is its client's). The
 * API compares a channel exactly, case included, so the reader picks a name rather than types
 * one; "Other…" takes any other name as Glassix writes it. */
const CHANNELS = [
  ['WhatsApp', 'WhatsApp'],
  ['Mail', 'E-mail'],
  ['SMS', 'SMS'],
  ['Web', 'Web chat'],
  ['FBmessenger', 'Facebook Messenger'],
  ['FacebookFeed', 'Facebook posts'],
  ['InstagramFeed', 'Instagram'],
  ['TelegramBot', 'Telegram'],
  ['PhoneCall', 'Phone call'],
  ['WebViaSMS', 'Web via SMS'],
];
const OTHER_CHANNEL = '(other)';
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The address of the last search shown, for the ticket screen's way back to its results. */
let lastSearch = null;

/** A search as the address carries it: the reader's words, channel and local days. */
function searchOf(params) {
  const day = (name) => (DAY.test(params.get(name) || '') ? params.get(name) : '');
  return { q: params.get('q') || '', channel: params.get('channel') || '', from: day('from'), to: day('to') };
}

function searchHash(search) {
  const params = new URLSearchParams();
  for (const name of ['q', 'channel', 'from', 'to']) if (search[name]) params.set(name, search[name]);
  return `#/search?${params}`;
}

/** The instant a local day (`YYYY-MM-DD`) starts, or ends when `end`, in the reader's zone. */
function instantOfDay(day, end) {
  const instant = new Date(`${day}T${end ? '23:59:59.999' : '00:00:00'}`);
  return Number.isNaN(instant.getTime()) ? null : instant.toISOString();
}

/** What is wrong with `search` before the archive is asked, or null. */
function searchProblem(search) {
  if (!search.q.trim() && !search.channel && !search.from && !search.to) {
    return 'Type what to look for, or choose closing dates or a channel.';
  }
  if ((search.from && !instantOfDay(search.from, false)) || (search.to && !instantOfDay(search.to, true))) {
    return 'A closing day is not a date.';
  }
  if (search.from && search.to && search.from > search.to) return 'The “Closed from” day is after the “Closed to” day.';
  return null;
}

/** The search form: the words, the closing days and the channel. It goes to the results'
 * address, so that the browser's back button returns to them. */
function ticketSearchForm(search, { heading = null, labelledBy = null } = {}) {
  const q = h('input', {
    id: 'q', name: 'q', type: 'search', value: search.q, maxlength: 200, autocomplete: 'off',
    spellcheck: 'false', dir: 'auto', 'aria-describedby': 'q-help ticket-search-error',
  });
  const from = h('input', { id: 'closed-from', name: 'from', type: 'date', value: search.from });
  const to = h('input', { id: 'closed-to', name: 'to', type: 'date', value: search.to });
  const known = CHANNELS.some(([value]) => value === search.channel);
  const channel = h('select', { id: 'channel', name: 'channel' },
    h('option', { value: '' }, 'Any channel'),
    CHANNELS.map(([value, label]) => h('option', { value, selected: value === search.channel }, label)),
    h('option', { value: OTHER_CHANNEL, selected: Boolean(search.channel) && !known }, 'Other…'));
  const other = h('input', {
    id: 'channel-other', name: 'channel-other', type: 'text', maxlength: 100, autocomplete: 'off',
    spellcheck: 'false', value: known ? '' : search.channel, 'aria-describedby': 'channel-other-help',
  });
  const otherField = h('div', { class: 'field', hidden: channel.value !== OTHER_CHANNEL },
    h('label', { for: 'channel-other' }, 'Channel name'),
    other,
    h('p', { id: 'channel-other-help', class: 'hint' }, 'As Glassix names it (case matters).'));
  channel.addEventListener('change', () => {
    otherField.hidden = channel.value !== OTHER_CHANNEL;
    if (!otherField.hidden) other.focus();
  });
  const message = h('p', { id: 'ticket-search-error', class: 'error', role: 'alert' });
  const headingId = 'ticket-search-heading';
  return h('form', {
    class: 'ticket-search card',
    role: 'search',
    'aria-labelledby': heading ? headingId : labelledBy,
    novalidate: true,
    onsubmit: (event) => {
      event.preventDefault();
      const wanted = {
        q: q.value.trim(),
        channel: channel.value === OTHER_CHANNEL ? other.value.trim() : channel.value,
        from: from.value,
        to: to.value,
      };
      const problem = searchProblem(wanted);
      message.textContent = problem || '';
      if (problem) {
        q.focus();
        return;
      }
      const target = searchHash(wanted);
      // The same search again (its results, say, are older than a new archive): hashchange
      // would not fire.
      if (location.hash === target) render();
      else location.hash = target;
    },
  },
  heading ? h('h2', { id: headingId }, heading) : null,
  h('label', { for: 'q' }, 'Words, a phone number or an e-mail address'),
  h('div', { class: 'inline' }, q, h('button', { type: 'submit' }, 'Search tickets')),
  h('p', { id: 'q-help', class: 'hint' },
    'Tickets where every word is said, newest closing first. Hebrew with or without niqqud; end a word with * to find words that start with it (3 letters or more); a phone number written any way; a whole e-mail address; a ticket number.'),
  h('div', { class: 'filters' },
    h('div', { class: 'field' }, h('label', { for: 'closed-from' }, 'Closed from'), from),
    h('div', { class: 'field' }, h('label', { for: 'closed-to' }, 'Closed to (inclusive)'), to),
    h('div', { class: 'field' }, h('label', { for: 'channel' }, 'Channel'), channel),
    otherField),
  message);
}

async function showSearch(search, gen) {
  setCrumbs(['Archive', '#/'], ['Search']);
  lastSearch = searchHash(search);
  const status = h('p', { class: 'summary', role: 'status' });
  const list = h('ol', { class: 'rows results', 'aria-label': 'Tickets found, newest closing first' });
  const message = h('p', { class: 'error', role: 'alert' });
  const more = h('button', { type: 'button', class: 'more', hidden: true }, 'Show more results');
  fill(main,
    h('h1', { id: 'search-heading', tabindex: -1 }, 'Search the conversations'),
    ticketSearchForm(search, { labelledBy: 'search-heading' }),
    h('section', { class: 'search-results', 'aria-label': 'Results' }, status, message, list, more),
  );
  focusHeading();
  const problem = searchProblem(search);
  if (problem) {
    message.textContent = problem;
    return;
  }

  const query = new URLSearchParams({ limit: SEARCH_PAGE });
  if (search.q.trim()) query.set('q', search.q.trim());
  if (search.channel) query.set('channel', search.channel);
  if (search.from) query.set('closedFrom', instantOfDay(search.from, false));
  if (search.to) query.set('closedTo', instantOfDay(search.to, true));
  let next = null;
  let shown = 0;

  async function load() {
    if (next) query.set('cursor', next);
    more.disabled = true;
    status.textContent = shown ? 'Loading more results…' : 'Searching…';
    let page;
    try {
      page = await api(`/tickets?${query}`);
    } catch (error) {
      if (error instanceof SignedOut || !current(gen)) return;
      status.textContent = shown ? `${plural(shown, 'ticket')} shown.` : '';
      message.textContent = `The search could not be run: ${error.message}`;
      more.disabled = false;
      if (shown) more.textContent = 'Try again';
      return;
    }
    if (!current(gen)) return;
    const items = page.items.map((item) => resultItem(item, Boolean(search.q.trim())));
    list.append(...items);
    const first = shown === 0;
    shown += items.length;
    next = page.next || null;
    message.textContent = '';
    more.textContent = 'Show more results';
    more.hidden = !next;
    more.disabled = false;
    status.textContent = !shown
      ? 'No ticket matches this search. Every word must be said in the same ticket: try fewer words, a word ending in *, or wider dates.'
      : next ? `${plural(shown, 'ticket')} shown, newest closing first; more match.` : `${plural(shown, 'ticket')} found.`;
    // After "more", the keyboard goes on from the first new result.
    if (!first && items.length) items[0].querySelector('a').focus();
  }
  more.addEventListener('click', () => load());
  await load();
}

/** A ticket found: its id, client, channel, closing and tags, and each message that matched
 * with what matched marked. Every link opens the ticket at the message it quotes. */
function resultItem(item, searched) {
  const at = (transactionId) => `#/tickets/${enc(item.ticketId)}`
    + (transactionId == null ? '' : `?transaction=${enc(transactionId)}`);
  const matches = Array.isArray(item.matches) ? item.matches : [];
  return h('li', { class: 'result', dataset: { ticketId: item.ticketId } },
    h('div', { class: 'result-head' },
      h('a', { class: 'title', href: at(matches[0] ? matches[0].transactionId : null) }, `Ticket ${item.ticketId}`),
      h('span', { class: 'client' },
        h('span', { class: 'identifier', dir: 'ltr' }, item.clientIdentifier),
        item.clientName ? [' ', h('span', { class: 'name', dir: 'auto' }, item.clientName)] : null),
      h('span', { class: 'channel' }, item.protocolType),
      h('span', { class: 'dates' }, item.closedAt ? ['Closed ', time(item.closedAt)] : 'not closed'),
      tags(item.tags)),
    matches.length
      ? h('ol', { class: 'matches', 'aria-label': 'Messages that match' }, matches.map((match) => h('li', {},
        h('a', { class: 'match', href: at(match.transactionId) },
          h('span', { class: 'visually-hidden' }, `Message ${match.transactionId}: `),
          highlighted(match.snippet, match.highlights)))))
      : searched
        ? h('p', { class: 'hint no-quote' }, 'No message quoted: what matched is the client’s identifier or name, the ticket number, or a part of a long message.')
        : null);
}

/** `snippet` as text with each highlight (code-point offsets) in a <mark>: text nodes only,
 * since a snippet is archived customer text. */
function highlighted(snippet, highlights) {
  const chars = Array.from(String(snippet ?? ''));
  const spans = (Array.isArray(highlights) ? highlights : [])
    .map((mark) => [Number(mark && mark.start), Number(mark && mark.length)])
    .filter(([start, length]) => Number.isInteger(start) && Number.isInteger(length) && start >= 0 && length > 0)
    .sort((a, b) => a[0] - b[0]);
  const text = h('span', { class: 'snippet', dir: 'auto' });
  let at = 0;
  for (const [start, length] of spans) {
    if (start < at || start >= chars.length) continue; // overlapping or outside: left unmarked
    const end = Math.min(start + length, chars.length);
    if (start > at) text.append(chars.slice(at, start).join(''));
    text.append(h('mark', {}, chars.slice(start, end).join('')));
    at = end;
  }
  if (at < chars.length) text.append(chars.slice(at).join(''));
  return text;
}

// ---- one client ------------------------------------------------------------------------

async function showClient(identifier, gen) {
  setCrumbs(['Archive', '#/'], [identifier]);
  const base = `/clients/${enc(identifier)}`;
  const [client, tickets] = await Promise.all([api(base), allPages(`${base}/tickets`, 100, 50)]);
  if (!current(gen)) return;
  // The API lists tickets by id; people look for the newest first.
  tickets.sort((a, b) => Date.parse(b.ticketOpeningDate) - Date.parse(a.ticketOpeningDate)
    || b.ticketId - a.ticketId);
  fill(main,
    h('h1', { tabindex: -1 }, h('span', { dir: 'auto' }, client.name || client.identifier)),
    holdSection({
      path: base,
      hold: client.legalHold,
      what: 'on this client and all its tickets: none of them can be erased while held.',
      lifted: 'The client and its tickets can be erased again (a ticket held on its own stays held).',
    }, gen),
    h('dl', { class: 'facts' },
      fact('Identifier', h('span', { dir: 'ltr' }, client.identifier)),
      fact('Tickets', String(tickets.length)),
      fact('Client since', time(client.createdAt, dateOnly))),
    exportSection(client.identifier, gen),
    h('h2', {}, 'Tickets, newest first'),
    tickets.length
      ? h('ol', { class: 'rows tickets' }, tickets.map(ticketRow))
      : h('p', { class: 'empty' }, 'This client has no tickets.'),
  );
  focusHeading();
  if (can('audit')) {
    const log = openedBy({ clientIdentifier: identifier }, gen, {
      open: true,
      about: 'Requests to the archive about this client and its tickets',
    });
    main.append(log.panel);
    log.load();
  }
}

// ---- a client's data export (for a token with `export`) ---------------------------------

/** How often the screen asks whether the export is ready: every second for the first
 * minute, then every 5 s; after 15 minutes (the longest an export is built) it stops asking
 * and offers "Check again". */
const EXPORT_POLL_MS = 1000;
const EXPORT_SLOW_AFTER = 60;
const EXPORT_SLOW_POLL_MS = 5000;
const EXPORT_WAIT_MS = 15 * 60_000;
/** A ZIP up to this size is checked against its SHA-256 before it is saved (a larger one would
 * be held in memory twice; the screen shows its SHA-256 to compare by hand). */
const EXPORT_CHECK_BYTES = 512 * 1024 * 1024;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The export last requested in this tab for a client (token and identifier → export id), so
 * that it is shown again when the reader comes back to the client's screen; forgotten at
 * sign-out. */
const exportsRequested = new Map();

/** How many days an export is kept: from when it was ready (or requested) to its expiry. */
function keptDays(exported) {
  const days = Math.round((Date.parse(exported.expiresAt) - Date.parse(exported.readyAt || exported.createdAt)) / DAY_MS);
  return days > 0 ? days : null;
}

/** The client screen's export: request it, follow it until it is ready or failed, download
 * its ZIP. None for a token without `export`. */
function exportSection(identifier, gen) {
  if (!can('export')) return null;
  const key = `${token()}\n${identifier}`;
  const kept = h('span', {}, 'It can be downloaded for a few days, then it is deleted.');
  const start = h('button', { type: 'button', class: 'export-start' }, 'Export this client’s data');
  const check = h('button', { type: 'button', class: 'quiet', hidden: true }, 'Check again');
  const status = h('p', { class: 'export-status', role: 'status', 'aria-live': 'polite' });
  const message = h('p', { class: 'error export-error', role: 'alert' });
  const result = h('div', { class: 'export-result' });
  const section = h('section', { class: 'export-section card', 'aria-labelledby': 'export-heading' },
    h('h2', { id: 'export-heading' }, 'Export this client’s data'),
    h('p', { class: 'hint' },
      'One ZIP file: every conversation of this client as a page to read in a browser, every archived file, and a machine-readable manifest (manifest.json). ',
      kept, ' Anyone with the file can read all of it: keep it safe.'),
    status,
    message,
    result,
    h('div', { class: 'inline-buttons' }, start, check));

  let exportId = null;
  let timer = null;
  let polls = 0;
  let failures = 0;
  let deadline = 0;
  cleanups.push(() => clearTimeout(timer));

  const say = (text) => {
    if (status.textContent !== text) status.textContent = text;
  };
  /** Focus goes to what comes next only when it was lost (its button disabled or hidden) or
   * is in this section: never taken from elsewhere on the screen. */
  const focusOn = (element) => {
    const active = document.activeElement;
    if (!active || active === document.body || section.contains(active)) element.focus();
  };
  /** The start button again, as `label` (`quiet` beside a ready export's download), with
   * `text` said as an error, if any. */
  const offer = (label, text, quiet = false) => {
    clearTimeout(timer);
    say('');
    message.textContent = text || '';
    start.textContent = label;
    start.classList.toggle('quiet', quiet);
    start.hidden = false;
    start.disabled = false;
  };
  const forget = (text) => {
    exportsRequested.delete(key);
    fill(result);
    offer('Request a new export', text);
    check.hidden = true;
    focusOn(start);
  };

  function draw(exported) {
    exportId = exported.exportId;
    exportsRequested.set(key, exportId);
    const days = keptDays(exported);
    if (days) kept.textContent = `It can be downloaded for ${plural(days, 'day')}, then it is deleted.`;
    check.hidden = true;
    message.textContent = '';
    if (exported.status === 'ready') {
      if (Date.parse(exported.expiresAt) <= Date.now()) {
        forget('The last export has expired and was deleted; request a new one.');
        return;
      }
      const download = downloadButton(exported);
      fill(result,
        h('dl', { class: 'facts export-facts' },
          fact('Tickets', String(exported.tickets)),
          fact('Files', String(exported.files)),
          fact('Size', size(exported.sizeBytes)),
          fact('Ready', time(exported.readyAt)),
          fact('Expires', time(exported.expiresAt)),
          fact('SHA-256', h('code', { class: 'sha256', dir: 'ltr' }, exported.sha256))),
        download);
      offer('Request a new export', '', true);
      say(`The export is ready: ${plural(exported.tickets, 'ticket')} and ${plural(exported.files, 'file')}, ${size(exported.sizeBytes)}.`);
      focusOn(download);
    } else if (exported.status === 'failed') {
      fill(result);
      offer('Try again', `The export failed: ${exported.failure || 'the archive did not say why.'}`);
      focusOn(start);
    } else {
      fill(result);
      start.hidden = true;
      say('Preparing the export…');
      schedule();
    }
  }

  function schedule() {
    clearTimeout(timer);
    if (!current(gen)) return;
    if (Date.now() > deadline) {
      halt('The export is taking long. It goes on being built: check again in a few minutes.');
      return;
    }
    polls += 1;
    timer = setTimeout(poll, polls > EXPORT_SLOW_AFTER ? EXPORT_SLOW_POLL_MS : EXPORT_POLL_MS);
  }

  async function poll() {
    if (!current(gen)) return;
    let exported;
    try {
      exported = await api(`/exports/${enc(exportId)}`);
    } catch (error) {
      if (error instanceof SignedOut || !current(gen)) return;
      failures += 1;
      if (error.status === 404) {
        forget('The last export is no longer kept; request a new one.');
      } else if ((error.status === 0 || error.status >= 500) && failures < 3) {
        schedule(); // a passing failure: ask again
      } else {
        halt(`Whether the export is ready could not be read: ${error.message}`);
      }
      return;
    }
    if (!current(gen)) return;
    failures = 0;
    draw(exported);
  }

  /** Stops asking, says `text`, and offers to check again or to request a new export. */
  function halt(text) {
    offer('Request a new export', text, true);
    check.hidden = false;
    focusOn(check);
  }

  /** Follows the export `exportId` again, from now. */
  function follow() {
    deadline = Date.now() + EXPORT_WAIT_MS;
    polls = 0;
    failures = 0;
    poll();
  }

  function downloadButton(exported) {
    const name = `client-export-${exported.exportId}.zip`;
    const button = h('button', { type: 'button', class: 'export-download' }, 'Download');
    button.addEventListener('click', async () => {
      button.disabled = true;
      message.textContent = '';
      say(`Downloading ${size(exported.sizeBytes)}…`);
      try {
        // Locally the ZIP itself; deployed a redirect to a short-lived link, which fetch follows.
        const response = await api(exported.file || `/exports/${enc(exported.exportId)}/file`, { raw: true });
        const blob = await response.blob();
        if (crypto.subtle && exported.sha256 && blob.size <= EXPORT_CHECK_BYTES
          && (await sha256Hex(blob)) !== exported.sha256.toLowerCase()) {
          throw new ApiError(0, 'The downloaded file does not match the export’s SHA-256. Download it again.');
        }
        save(blob, name);
        say(`Downloaded ${name}.`);
      } catch (error) {
        if (error instanceof SignedOut || !current(gen)) return;
        if (error.status === 410 || error.status === 404) {
          forget(`The export can no longer be downloaded: ${error.message}`);
          return;
        }
        say('');
        message.textContent = `The export could not be downloaded: ${error.message}`;
      } finally {
        button.disabled = false;
      }
    });
    return button;
  }

  start.addEventListener('click', async () => {
    clearTimeout(timer);
    start.disabled = true;
    check.hidden = true;
    message.textContent = '';
    fill(result);
    say('Requesting the export…');
    let exported;
    try {
      exported = await api(`/clients/${enc(identifier)}/exports`, { method: 'POST' });
    } catch (error) {
      if (error instanceof SignedOut || !current(gen)) return;
      offer(start.textContent, `The export could not be requested: ${error.message}`);
      focusOn(start);
      return;
    }
    if (!current(gen)) return;
    deadline = Date.now() + EXPORT_WAIT_MS;
    polls = 0;
    failures = 0;
    draw(exported);
  });
  check.addEventListener('click', () => {
    check.hidden = true;
    message.textContent = '';
    say('Preparing the export…');
    follow();
  });

  // Back on the screen: the export requested here before, as it is now.
  if (exportsRequested.has(key)) {
    exportId = exportsRequested.get(key);
    start.hidden = true;
    say('Checking the last export…');
    follow();
  }
  return section;
}

// ---- who opened it (the access log, for a token with `audit`) ---------------------------

const entries = (n) => (n === 1 ? '1 entry' : `${n} entries`);

/** The "Opened by" panel: the access-log entries matching `filter`, newest first, a page at a
 * time ("More" follows the log's cursor). It loads after the screen's content, and whatever
 * goes wrong stays inside it. */
function openedBy(filter, gen, { open, about, tickets = true }) {
  const status = h('span', { class: 'panel-status' }, 'loading…');
  const list = h('ol', { class: 'rows entries', 'aria-label': 'Access-log entries, newest first' });
  const empty = h('p', { class: 'empty', hidden: true }, 'No entries.');
  const message = h('p', { class: 'error', role: 'alert' });
  const more = h('button', { type: 'button', class: 'more', hidden: true, onclick: () => load() }, 'More');
  let next = null;
  let shown = 0;
  let loading = false;

  async function load() {
    if (loading) return;
    loading = true;
    more.disabled = true;
    const query = new URLSearchParams({ ...filter, limit: ACCESS_PAGE });
    if (next) query.set('cursor', next);
    try {
      const page = await api(`/access-log?${query}`);
      if (!current(gen)) return;
      list.append(...page.items.map((entry) => entryRow(entry, tickets)));
      shown += page.items.length;
      next = page.next || null;
      message.textContent = '';
      more.textContent = 'More';
      more.hidden = !next;
      empty.hidden = shown > 0;
      status.textContent = next ? `latest ${shown}, more available` : shown ? entries(shown) : 'none';
    } catch (error) {
      if (error instanceof SignedOut || !current(gen)) return;
      message.textContent = `The access log could not be loaded: ${error.message}`;
      status.textContent = shown ? `${entries(shown)} shown` : 'not loaded';
      more.textContent = 'Try again';
      more.hidden = false;
    } finally {
      loading = false;
      more.disabled = false;
    }
  }

  const panel = h('details', { class: 'panel opened-by', open },
    h('summary', {}, h('h2', {}, 'Opened by'), ' ', status),
    h('p', { class: 'hint' }, `${about}, newest first, from the access log. Times in your time zone (${timeZone}).`),
    list,
    empty,
    message,
    more);
  return { panel, load };
}

/** One access-log entry: when, which token, which request, the answer's status. */
function entryRow(entry, tickets) {
  const route = entry.route || '';
  const request = !entry.method || route.startsWith(`${entry.method} `) ? route : `${entry.method} ${route}`;
  const failed = Number(entry.status) >= 400;
  const origin = [entry.sourceIp, entry.userAgent, entry.requestId && `request ${entry.requestId}`].filter(Boolean).join(' · ');
  return h('li', { class: 'row entry', title: origin || null },
    time(entry.at),
    h('span', { class: 'token-name', dir: 'auto' }, entry.token || 'unknown token'),
    h('code', { class: 'request', dir: 'ltr' }, request),
    h('span', { class: failed ? 'status failed' : 'status', title: `HTTP status ${entry.status}` }, String(entry.status)),
    tickets && entry.ticketId != null
      ? h('a', { class: 'ticket-link', href: `#/tickets/${enc(entry.ticketId)}` }, `Ticket ${entry.ticketId}`)
      : null,
    entry.items != null ? h('span', { class: 'items' }, `${entry.items} listed`) : null);
}

function fact(term, ...value) {
  return h('div', {}, h('dt', {}, term), h('dd', {}, ...value));
}

function tags(list) {
  return list && list.length
    ? h('ul', { class: 'tags', 'aria-label': 'Tags' }, list.map((tag) => h('li', { dir: 'auto' }, tag)))
    : null;
}

function ticketRow(ticket) {
  return h('li', {},
    h('a', { class: 'row ticket', href: `#/tickets/${ticket.ticketId}` },
      h('span', { class: 'title' }, `Ticket ${ticket.ticketId}`),
      h('span', { class: 'channel' }, ticket.protocolType),
      h('span', { class: 'dates' }, 'Opened ', time(ticket.ticketOpeningDate), ' · ',
        ticket.closedAt ? ['Closed ', time(ticket.closedAt)] : 'not closed'),
      h('span', { class: 'count' }, plural(ticket.transactionCount, 'transaction')),
      ticket.scrambledAt ? h('span', { class: 'badge scrambled' }, 'Scrambled in Glassix') : null,
      holdBadge(ticket.legalHold),
      tags(ticket.tags)));
}

// ---- legal holds ------------------------------------------------------------------------

const holdSummary = (hold) => `${hold.reason} — since ${formatDate(hold.since)}`
  + `${hold.until ? `, until ${formatDate(hold.until)}` : ''}, placed by ${hold.by}`;

/** A list row's mark of a hold (`legalHold` of a client or ticket view; none when null): the
 * words, the reason cut to the row, and the whole hold as the title. */
function holdBadge(hold) {
  if (!hold) return null;
  return h('span', { class: 'hold-mark', title: holdSummary(hold) },
    h('span', { class: 'badge hold' }, 'Legal hold'),
    ' ',
    h('span', { class: 'hold-reason', dir: 'auto' }, hold.reason));
}

/** A hold in full, as text: `what` it holds, the reason, since, until, and by which token. */
function holdBanner(hold, ...what) {
  return h('div', { class: 'banner hold', role: 'note' },
    h('p', {}, h('strong', { class: 'badge hold' }, 'Legal hold'), ' ', ...what),
    h('dl', { class: 'hold-facts' },
      fact('Reason', h('span', { class: 'hold-reason', dir: 'auto' }, hold.reason)),
      fact('Since', time(hold.since)),
      fact('Until', hold.until ? time(hold.until) : 'lifted by hand'),
      fact('Placed by', h('span', { class: 'token-name', dir: 'auto' }, hold.by))));
}

/** A ticket's or client's own hold on its screen (`target.path` is its API path), and for a
 * token with `erase`: place it, change it, lift it. The API's answer redraws the section. */
function holdSection(target, gen) {
  const shown = h('div', {});
  // Outside what is redrawn, so that "placed" and "lifted" are announced.
  const status = h('p', { class: 'hold-status', role: 'status' });
  const section = h('section', { class: 'hold-section', 'aria-label': 'Legal hold' },
    shown, can('erase') ? status : null);
  const draw = (hold, said, focus) => {
    fill(shown,
      hold ? holdBanner(hold, target.what) : null,
      can('erase') ? holdControls(target, hold, status, gen, draw) : null);
    status.textContent = said;
    if (focus) section.querySelector('.hold-controls button')?.focus();
  };
  draw(target.hold || null, '', false);
  return section;
}

function holdControls(target, hold, status, gen, draw) {
  const message = h('p', { id: 'hold-error', class: 'error hold-error', role: 'alert' });
  const reason = h('input', {
    id: 'hold-reason', name: 'reason', type: 'text', maxlength: 500, autocomplete: 'off', dir: 'auto',
    value: hold ? hold.reason : '', 'aria-describedby': 'hold-error',
  });
  const until = h('input', {
    id: 'hold-until', name: 'until', type: 'date', 'aria-describedby': 'hold-until-help',
    min: localDay(new Date().toISOString()),
    value: hold && hold.until ? localDay(hold.until) : '',
  });
  const submit = h('button', { type: 'submit' }, hold ? 'Save the hold' : 'Place the hold');
  const toggle = h('button', { type: 'button', class: 'quiet', 'aria-expanded': 'false' },
    hold ? 'Change the hold' : 'Place legal hold');
  const form = h('form', { class: 'hold-form card', novalidate: true, hidden: true },
    h('label', { for: 'hold-reason' }, 'Reason (required)'),
    reason,
    h('label', { for: 'hold-until' }, 'Until (optional)'),
    until,
    h('p', { id: 'hold-until-help', class: 'hint' },
      `The hold ends when that day ends in your time zone (${timeZone}). Leave it empty to hold until someone lifts it.`),
    h('div', { class: 'inline-buttons' },
      submit,
      h('button', { type: 'button', class: 'quiet', onclick: () => open(false) }, 'Cancel')));
  const open = (yes) => {
    form.hidden = !yes;
    toggle.setAttribute('aria-expanded', String(yes));
    message.textContent = '';
    status.textContent = '';
    if (yes) {
      confirm.hidden = true;
      reason.focus();
    }
  };
  toggle.addEventListener('click', () => open(form.hidden));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { reason: reason.value.trim() };
    if (!body.reason) {
      message.textContent = 'Give a reason for the hold.';
      reason.focus();
      return;
    }
    if (until.value) {
      const end = new Date(`${until.value}T23:59:59.999`); // the end of that day, here
      if (Number.isNaN(end.getTime())) {
        message.textContent = 'The end date is not a date.';
        until.focus();
        return;
      }
      body.until = end.toISOString();
    }
    await send(submit, 'PUT', body, hold ? 'The legal hold was changed.' : 'Legal hold placed.');
  });

  const yes = h('button', { type: 'button', class: 'danger' }, 'Yes, lift the hold');
  const confirm = h('div', { class: 'hold-confirm', hidden: true },
    h('p', {}, `Lift this legal hold? ${target.lifted}`),
    h('div', { class: 'inline-buttons' }, yes,
      h('button', { type: 'button', class: 'quiet', onclick: () => { confirm.hidden = true; } }, 'Keep it')));
  yes.addEventListener('click', () => send(yes, 'DELETE', undefined, 'Legal hold lifted.'));
  const lift = hold
    ? h('button', {
      type: 'button', class: 'quiet', onclick: () => {
        open(false);
        confirm.hidden = false;
        yes.focus();
      },
    }, 'Lift legal hold')
    : null;

  async function send(button, method, body, done) {
    button.disabled = true;
    message.textContent = '';
    status.textContent = method === 'DELETE' ? 'Lifting the hold…' : 'Saving the hold…';
    try {
      const answer = await api(`${target.path}/legal-hold`, { method, body });
      if (!current(gen)) return;
      draw(answer.legalHold || null, done, true);
    } catch (error) {
      if (error instanceof SignedOut || !current(gen)) return;
      status.textContent = '';
      message.textContent = `The hold was not ${method === 'DELETE' ? 'lifted' : 'saved'}: ${error.message}`;
      button.disabled = false;
    }
  }

  return h('div', { class: 'hold-controls' },
    h('div', { class: 'inline-buttons' }, toggle, lift),
    confirm,
    form,
    message);
}

/** `YYYY-MM-DD` of an instant in the reader's zone (what a date input holds). */
function localDay(iso) {
  const date = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** On a ticket's screen, the hold of its client (which holds the ticket too), if any; the
 * screen stands without it when the client cannot be read. */
async function showClientHold(ticket, into, gen) {
  let client;
  try {
    client = await api(`/clients/${enc(ticket.clientIdentifier)}`);
  } catch {
    return;
  }
  if (!current(gen) || !client || !client.legalHold) return;
  fill(into, holdBanner(client.legalHold, 'on its client ',
    h('a', { href: `#/clients/${enc(ticket.clientIdentifier)}`, dir: 'auto' }, client.name || client.identifier),
    ', which holds this ticket too',
    can('erase') ? ' (placed and lifted on the client’s screen).' : '.'));
}

// ---- one ticket ------------------------------------------------------------------------

const ROLE_LABELS = { client: 'Client', agent: 'Agent', note: 'Internal note', event: 'Event' };

function roleOf(transaction) {
  if (transaction.type === 'Note') return 'note';
  if (transaction.type !== 'Message') return 'event';
  return /^(client|customer|contact)$/i.test(transaction.senderType || '') ? 'client' : 'agent';
}

function scrambleBanner(ticket) {
  if (ticket.scrambledAt) {
    return h('p', { class: 'banner scrambled', role: 'note' },
      h('strong', {}, 'Scrambled in Glassix'), ' on ', time(ticket.scrambledAt),
      '. Glassix no longer holds this conversation: this archive is the only copy.');
  }
  if (ticket.archivedAt) {
    return h('p', { class: 'banner', role: 'note' },
      h('strong', {}, 'Not scrambled'), ' — archived on ', time(ticket.archivedAt),
      '; Glassix still holds its own copy.');
  }
  return h('p', { class: 'banner', role: 'note' }, 'Entered through the API; never in Glassix.');
}

/** `id`'s screen; with `matched` (a transaction id from a search), the transcript is loaded up
 * to that message, which is scrolled to, marked and focused. */
async function showTicket(id, gen, matched = null) {
  const path = `/tickets/${enc(id)}`;
  const ticket = await api(path);
  if (!current(gen)) return;
  const clientHold = h('div', { class: 'client-hold' });
  setCrumbs(['Archive', '#/'],
    [ticket.clientName || ticket.clientIdentifier, `#/clients/${enc(ticket.clientIdentifier)}`],
    [`Ticket ${ticket.ticketId}`]);
  const log = can('audit')
    ? openedBy({ ticketId: ticket.ticketId }, gen, { open: false, about: 'Requests to the archive about this ticket', tickets: false })
    : null;

  let next = ticket.transactionsNext;
  let shown = 0;
  let loading = null;
  const transcript = h('ol', { class: 'transcript', 'aria-label': 'Conversation' });
  const progress = h('p', { class: 'progress', role: 'status' });
  const more = h('button', { type: 'button', class: 'more', onclick: () => loadMore() }, 'Load more');
  const sentinel = h('div', { class: 'sentinel', 'aria-hidden': 'true' });
  const images = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      images.unobserve(entry.target);
      entry.target.dispatchEvent(new Event('visible'));
    }
  }, { rootMargin: '800px 0px' });
  cleanups.push(() => images.disconnect());

  const update = () => {
    progress.textContent = next
      ? `Showing ${shown} of ${ticket.transactionCount} transactions; more load as you scroll.`
      : `All ${plural(shown, 'transaction')} shown.`;
    more.hidden = !next;
  };
  const append = (items) => {
    transcript.append(...items.map((t) => transactionItem(t, images, gen)));
    shown += items.length;
    update();
  };

  /** The next page of transactions (one request at a time). */
  function loadMore() {
    if (!next) return Promise.resolve();
    if (!loading) {
      more.disabled = true;
      loading = api(`${path}/transactions?limit=${TRANSACTIONS_PAGE}&cursor=${enc(next)}`)
        .then((page) => {
          if (!current(gen)) return;
          next = page.next;
          append(page.items);
        })
        .catch((error) => {
          if (error instanceof SignedOut || !current(gen)) return;
          progress.textContent = `${error.message} Scroll or press “Load more” to try again.`;
        })
        .finally(() => {
          loading = null;
          more.disabled = false;
          // Still at the end of the list (a short page, a tall screen): keep going.
          if (current(gen) && next && sentinel.getBoundingClientRect().top < window.innerHeight + 400) {
            loadMore();
          }
        });
    }
    return loading;
  }

  async function loadAll() {
    while (next && current(gen)) {
      const before = next;
      await loadMore();
      if (next === before) throw new ApiError(0, 'Not every transaction could be loaded.');
    }
  }

  const status = h('p', { class: 'toolbar-status', role: 'status' });
  const busy = (button, label, work) => async () => {
    button.disabled = true;
    status.textContent = label;
    try {
      await work();
      status.textContent = '';
    } catch (error) {
      if (!(error instanceof SignedOut)) status.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  };
  const jsonButton = h('button', { type: 'button' }, 'Download as JSON');
  jsonButton.addEventListener('click', busy(jsonButton, 'Preparing the JSON file…', () => downloadJson(id)));
  const printButton = h('button', { type: 'button' }, 'Print or save as PDF');
  printButton.addEventListener('click', busy(printButton, 'Loading every transaction for printing…', async () => {
    await loadAll();
    window.print();
  }));

  const foundStatus = h('p', { class: 'found-status', role: 'status' });
  fill(main,
    h('article', { class: 'ticket-view' },
      matched && lastSearch
        ? h('p', { class: 'back-to-search' }, h('a', { href: lastSearch }, '← Back to the search results'))
        : null,
      h('h1', { tabindex: -1 }, `Ticket ${ticket.ticketId}`),
      holdSection({
        path,
        hold: ticket.legalHold,
        what: 'on this ticket: it cannot be erased while held.',
        lifted: 'This ticket can be erased again, unless a hold on its client holds it.',
      }, gen),
      clientHold,
      scrambleBanner(ticket),
      h('dl', { class: 'facts' },
        fact('Client', h('a', { href: `#/clients/${enc(ticket.clientIdentifier)}`, dir: 'auto' },
          ticket.clientName || ticket.clientIdentifier), ' ', h('span', { class: 'muted', dir: 'ltr' }, ticket.clientIdentifier)),
        fact('Channel', ticket.protocolType),
        fact('Opened', time(ticket.ticketOpeningDate)),
        fact('Closed', ticket.closedAt ? time(ticket.closedAt) : 'not closed'),
        fact('Transactions', String(ticket.transactionCount)),
        ticket.tags.length ? fact('Tags', tags(ticket.tags)) : null),
      h('div', { class: 'toolbar' }, jsonButton, printButton, status,
        h('p', { class: 'muted zone' }, `Times in your time zone (${timeZone}).`)),
      matched ? foundStatus : null,
      // Folded: the transcript is what this screen is for; the summary tells how many.
      log ? log.panel : null,
      transcript,
      sentinel,
      progress,
      more,
      h('p', { class: 'print-only' },
        `Printed from the ticket archive: ticket ${ticket.ticketId}. Times in ${timeZone}.`)),
  );
  append(ticket.transactions || []);
  const scrolled = new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting)) loadMore();
  }, { rootMargin: '400px 0px' });
  scrolled.observe(sentinel);
  cleanups.push(() => scrolled.disconnect());
  focusHeading();
  if (log) log.load();
  showClientHold(ticket, clientHold, gen);
  if (matched) await showMatched(matched);

  /** The transcript's message `transactionId`, after as many pages as it takes (a search can
   * quote the last message of a long ticket). */
  async function showMatched(transactionId) {
    const find = () => document.getElementById(`tx-${transactionId}`);
    let item = find();
    if (!item && next) foundStatus.textContent = 'Loading the conversation up to the message that matched…';
    while (!item && next && current(gen)) {
      const before = next;
      await loadMore();
      if (next === before) {
        foundStatus.textContent = 'The conversation could not be loaded up to the message that matched.';
        return;
      }
      item = find();
    }
    if (!current(gen)) return;
    if (!item || !transcript.contains(item)) {
      foundStatus.textContent = 'The message the search quoted is not in this ticket any more.';
      return;
    }
    item.classList.add('found');
    item.setAttribute('tabindex', '-1');
    item.querySelector('.meta').append(h('span', { class: 'badge found-badge' }, 'Matched your search'));
    foundStatus.textContent = `Showing message ${transactionId}, which matched the search.`;
    item.scrollIntoView({ block: 'center' });
    item.focus({ preventScroll: true });
  }
}

function transactionItem(transaction, images, gen) {
  const role = roleOf(transaction);
  const label = role === 'agent' && /bot/i.test(transaction.senderType || '') ? 'Bot' : ROLE_LABELS[role];
  const eventName = role === 'event' ? transaction.type.replace(/([a-z])([A-Z])/g, '$1 $2') : null;
  const wide = transaction.html ? ' wide' : '';
  return h('li', { class: `tx ${role}${wide}`, id: `tx-${transaction.id}`, dataset: { role, id: transaction.id } },
    h('p', { class: 'meta' },
      h('span', { class: 'role' }, label),
      transaction.senderName ? h('span', { class: 'sender', dir: 'auto' }, transaction.senderName) : null,
      transaction.fromProtocolType ? h('span', { class: 'channel' }, transaction.fromProtocolType) : null,
      time(transaction.dateTime)),
    eventName ? h('p', { class: 'event-name' }, eventName) : null,
    body(transaction),
    attachmentList(transaction, images, gen));
}

/** The message: its text, and its archived HTML in a sandboxed frame (shown at once for an
 * e-mail or a message without text, behind a disclosure otherwise). */
function body(transaction) {
  const text = transaction.text ? h('div', { class: 'text', dir: 'auto' }, transaction.text) : null;
  if (!transaction.html) return text;
  const frame = () => h('iframe', {
    class: 'mail',
    sandbox: '',
    srcdoc: transaction.html,
    title: `Message ${transaction.id} as archived (formatted)`,
    referrerpolicy: 'no-referrer',
  });
  const isMail = /mail/i.test(transaction.fromProtocolType || '');
  if (isMail || !text) {
    return [
      h('div', { class: 'mail-wrap' }, frame()),
      text ? h('details', { class: 'alt' }, h('summary', {}, 'Plain text'), text) : null,
    ];
  }
  const details = h('details', { class: 'alt' }, h('summary', {}, 'Formatted version'));
  details.addEventListener('toggle', () => {
    if (details.open && !details.querySelector('iframe')) details.append(h('div', { class: 'mail-wrap' }, frame()));
  });
  return [text, details];
}

const INLINE_IMAGE = /^image\/(png|jpe?g|gif|webp|avif|bmp)$/i;

function attachmentList(transaction, images, gen) {
  const list = transaction.attachments || [];
  if (!list.length) return null;
  return h('ul', { class: 'files', 'aria-label': 'Attachments' }, list.map((attachment) => {
    const name = attachment.originalFileName || attachment.fileIdentifier || 'attachment';
    const file = attachment.file;
    if (!file) return h('li', { class: 'missing' }, h('span', { dir: 'auto' }, name), ' (file not archived)');
    const button = h('button', { type: 'button', class: 'download' },
      'Download ', h('span', { dir: 'auto' }, name), ` (${size(file.size)})`);
    const note = h('span', { class: 'file-status', role: 'status' });
    button.addEventListener('click', async () => {
      button.disabled = true;
      note.textContent = 'Downloading…';
      try {
        const blob = await fetchFile(file);
        save(blob, name);
        note.textContent = '';
      } catch (error) {
        if (!(error instanceof SignedOut)) note.textContent = error.message;
      } finally {
        button.disabled = false;
      }
    });
    if (!INLINE_IMAGE.test(file.contentType)) return h('li', {}, button, note);
    const image = h('img', { alt: name, class: 'attachment-image', decoding: 'async' });
    image.addEventListener('visible', async () => {
      try {
        const blob = await fetchFile(file);
        if (current(gen)) image.src = objectUrl(blob);
      } catch (error) {
        if (!(error instanceof SignedOut)) note.textContent = `The image could not be loaded: ${error.message}`;
      }
    }, { once: true });
    images.observe(image);
    return h('li', {}, h('figure', {}, image, h('figcaption', {}, button, note)));
  }));
}

/** An archived file through the attachment route (with the bearer header, which an
 * <img src> cannot send), checked against the SHA-256 the archive recorded. */
async function fetchFile(file) {
  const response = await api(file.path, { raw: true });
  const blob = await response.blob();
  if (crypto.subtle && file.sha256 && (await sha256Hex(blob)) !== file.sha256.toLowerCase()) {
    throw new ApiError(0, 'The file does not match its archived checksum.');
  }
  return blob;
}

/** The SHA-256 of `blob`, in lowercase hexadecimal. */
async function sha256Hex(blob) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The ticket with every transaction, as one JSON file. */
async function downloadJson(id) {
  const path = `/tickets/${enc(id)}`;
  const ticket = await api(path);
  const transactions = [...(ticket.transactions || [])];
  let next = ticket.transactionsNext;
  while (next) {
    const page = await api(`${path}/transactions?limit=100&cursor=${enc(next)}`);
    transactions.push(...page.items);
    next = page.next;
  }
  const whole = { ...ticket, transactions };
  delete whole.transactionsNext;
  save(new Blob([JSON.stringify(whole, null, 2)], { type: 'application/json' }), `ticket-${ticket.ticketId}.json`);
}

window.addEventListener('hashchange', render);
render();
