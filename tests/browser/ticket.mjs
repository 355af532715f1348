// The ticket the browser test archives through the closed-ticket webhook. The same module
// writes it for the Glassix stand-in (`node ticket.mjs out.json`) and tells the test what the
// viewer must show, so the two cannot disagree.

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const glassixFixtures = path.join(here, '..', '..', 'shared', 'fixtures', 'glassix');
export const FILES_DIR = path.join(here, 'fixtures');

export const TICKET_ID = 59100001;
export const CLIENT_ID = '972549876543';
/** More than one page of transactions: `GET /tickets/{id}` carries the first 100. */
const FOLLOW_UPS = 130;

const client = {
  id: 1, name: 'Dana Cohen', displayName: 'דנה', protocolType: 'WhatsApp', subProtocolType: 'Undefined',
  isActive: true, isDeleted: false, identifier: CLIENT_ID, departmentIdentifier: '', type: 'Client',
  contactId: '8c32d257-0428-4c8b-a839-809a16277f43', userName: '',
};
const agent = {
  id: 2, name: 'Noa Levi', displayName: 'Noa', protocolType: 'Web', subProtocolType: 'Undefined',
  isActive: true, isDeleted: false, identifier: '6a827a72-c4c6-473f-9565-3ef9745d25a9',
  departmentIdentifier: '', type: 'User', contactId: '00000000-0000-0000-0000-000000000000',
  userName: 'noa.levi@example.com',
};

/** Archived e-mail HTML that tries to reach the viewer's page in every usual way. */
export const HOSTILE_HTML = [
  '<html><head><meta charset="utf-8"><style>p { color: #a4262c }</style></head><body>',
  '<p id="mail-marker">Invoice A-1042 is attached. Please refund the second charge.</p>',
  '<script>window.parent.pwned = 1; top.document.title = "pwned";</script>',
  '<img src="x" onerror="window.parent.pwned = 1; top.document.title = \'pwned\'">',
  '<svg onload="window.parent.pwned = 1"></svg>',
  '<a href="javascript:window.parent.pwned = 1">details</a>',
  '<form action="/clients" method="post"><input name="identifier" value="x"></form>',
  '</body></html>',
].join('\n');

const at = (minutes) => new Date(Date.UTC(2024, 2, 10, 8, 15) + minutes * 60_000).toISOString();

function transaction(id, minutes, from, fields) {
  return {
    guidTransactionId: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`,
    id,
    dateTime: at(minutes),
    fromProtocolType: from === client ? 'WhatsApp' : 'Web',
    type: 'Message',
    text: '',
    html: '',
    status: 'Read',
    fromParticipant: from,
    attachments: [],
    payload: null,
    ...fields,
  };
}

/** What the viewer must show for each transaction, in order. */
export function expected() {
  const list = [
    { id: 1001, role: 'client', text: 'שלום, חויבתי פעמיים על הזמנה 1042. מצורפת הקבלה.', dir: 'rtl' },
    { id: 1002, role: 'agent', text: "Hi Dana, I'm checking the double charge with our billing team.", dir: 'ltr' },
    { id: 1003, role: 'note', text: 'Duplicate capture confirmed in the payment gateway; refund RF-9921.', dir: 'ltr' },
    { id: 1004, role: 'client', text: 'Invoice A-1042 is attached. Please refund the second charge.', dir: 'ltr', mail: true },
    { id: 1005, role: 'agent', text: 'דנה, הזיכוי בוצע ✅ The refund of ₪149.90 was issued.', dir: 'rtl' },
  ];
  for (let n = 1; n <= FOLLOW_UPS; n += 1) {
    list.push({ id: 1005 + n, role: n % 2 ? 'client' : 'agent', text: `Follow-up ${n}`, dir: 'ltr' });
  }
  list.push({ id: 1006 + FOLLOW_UPS, role: 'client', text: 'תודה רבה! Thanks a lot 🙏', dir: 'rtl' });
  return list;
}

export const IMAGE = { transaction: 1001, name: 'קבלה-receipt.png', file: 'receipt.png' };
export const DOCUMENT = { transaction: 1004, name: 'invoice-A-1042.pdf', file: 'invoice.pdf' };

/** The ticket as Glassix's `tickets/get` returns it (the shared fixture's shape). */
export function glassixTicket() {
  const base = JSON.parse(readFileSync(path.join(glassixFixtures, 'ticket.json'), 'utf8'));
  const transactions = expected().map((t, index) => {
    const from = t.role === 'client' ? client : agent;
    const fields = { text: t.text };
    if (t.role === 'note') fields.type = 'Note';
    if (t.mail) {
      fields.fromProtocolType = 'Mail';
      fields.html = HOSTILE_HTML;
    }
    if (t.id === 1002) fields.html = `<p>${t.text}</p>`;
    const attachment = [IMAGE, DOCUMENT].find((a) => a.transaction === t.id);
    if (attachment) {
      fields.attachments = [{
        id: 5000 + t.id,
        type: attachment === IMAGE ? 'Image' : 'Document',
        fileIdentifier: attachment.file,
        originalFileName: attachment.name,
        uri: 'https://files.example.com/replaced-by-the-stub',
        isEmbedded: false,
      }];
    }
    return transaction(t.id, index, from, fields);
  });
  return {
    ...base,
    id: TICKET_ID,
    tags: ['Refund', 'Billing'],
    open: at(-1),
    close: at(transactions.length + 1),
    lastActivity: at(transactions.length + 1),
    primaryProtocolType: 'WhatsApp',
    participants: [client, agent],
    transactions,
    transactionsCount: transactions.length,
    isScrambled: false,
  };
}

/** The signed TICKET_STATE_CHANGE delivery that closes the ticket. */
export function closedDelivery() {
  const event = JSON.parse(readFileSync(path.join(glassixFixtures, 'ticket-state-change-closed-event.json'), 'utf8'));
  const change = event.changes[0];
  change.ticketId = TICKET_ID;
  change.ticket = { ...change.ticket, id: TICKET_ID, participants: [client, agent] };
  event.key = '2d0c1f8e-5b7a-4c3e-9f10-6a5b4c3d2e1f';
  return JSON.stringify(event);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(process.argv[2], JSON.stringify(glassixTicket()));
}
