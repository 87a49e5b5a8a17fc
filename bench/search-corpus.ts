// A seeded synthetic English corpus for the search benches: Zipf-distributed words, rare words, typos, filters.
import { randomUUID } from 'node:crypto';
import type { SearchDocument, SearchFilter } from '../src/services/search/search-engine.ts';

// A seeded PRNG (mulberry32): the same corpus and queries on every run.
let seed = 0x9e3779b9;
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

// The head of the vocabulary: frequent English words, most frequent first (stop words included, as in real text).
const COMMON = (
  'the of and to a in is that for it as was with be by on not he this are or his from at which but have an they ' +
  'you were her all she there would their we him been has when who will more no if out so said what up its about ' +
  'into than them can only other new some could time these two may then do first any my now such like our over man ' +
  'me even most made after also did many before must through back years where much your way well down should ' +
  'because each just those people how too little state good very make world still own see men work long get here ' +
  'between both life being under never day same another know while last might us great old year off come since ' +
  'against go came right used take three project budget report meeting contract delivery invoice review client ' +
  'service quality design schedule analysis proposal payment customer account market company business team data ' +
  'system process support product management manager office order price cost value plan program development ' +
  'research information group number part place case point government company week member family country problem ' +
  'hand question fact month lot study book job word issue side kind head house friend hour game line end member law ' +
  'car city community name president team minute idea kid body back parent face others level office door health ' +
  'person art war history party result change morning reason research girl guy moment air teacher force education ' +
  'shipment freight warehouse container logistics supplier vendor agreement equipment maintenance inspection ' +
  'turbine harbour engineering consultancy finance forecast revenue expense audit compliance safety training'
).split(' ');
const SYLLABLES =
  'ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo ga ge gi go ha he hi ho la le li lo lu ma me mi mo mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo za ze zi zo ster tion ment ing ness able ical ward land ville port'.split(
    ' ',
  );
// Rare words: each in about 0.05% of the documents, so a query for one matches tens of documents.
const RARE = [
  ...new Set(
    Array.from(
      { length: 400 },
      () =>
        `${pick(['zan', 'quet', 'xylo', 'brom', 'vort', 'glim'])}${pick(SYLLABLES)}${pick(['qua', 'xen', 'jor', 'kiv', 'zul'])}`,
    ),
  ),
];

const vocabulary = [
  ...new Set([
    ...COMMON,
    ...Array.from({ length: 60_000 }, () =>
      Array.from({ length: 2 + Math.floor(random() * 3) }, () => pick(SYLLABLES)).join(''),
    ),
  ]),
];
// Zipf weights 1/r^1.05 over the ranks, sampled by binary search on the cumulative sums.
const cumulative: number[] = [];
vocabulary.reduce((sum, _, r) => {
  const next = sum + 1 / (r + 1) ** 1.05;
  cumulative.push(next);
  return next;
}, 0);
const zipfWord = () => {
  const x = random() * cumulative.at(-1)!;
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return vocabulary[lo]!;
};

export const TYPES = [
  'invoice',
  'contract',
  'report',
  'proposal',
  'notes',
  'shipping',
  'maintenance',
  'quote',
];
const FIRST = [
  'Amina',
  'Lars',
  'Priya',
  'John',
  'Mei',
  'Carlos',
  'Fatima',
  'Olga',
  'Kenji',
  'Sara',
  'Tom',
  'Ines',
];
const LAST = [
  'Mwangi',
  'Jensen',
  'Raman',
  'Smith',
  'Chen',
  'Garcia',
  'Haddad',
  'Ivanova',
  'Sato',
  'Rossi',
  'Berg',
];
export const contacts = Array.from({ length: 2000 }, () => ({
  id: randomUUID(),
  name: `${pick(FIRST)} ${pick(LAST)}`,
}));
const START = Date.parse('2022-01-01T00:00:00Z');
const SPAN = 3 * 365 * 86_400_000;

export function makeDoc(): SearchDocument {
  const sentences: string[] = [];
  let words = 0;
  const target = 250 + Math.floor(random() * 100);
  while (words < target) {
    const n = 8 + Math.floor(random() * 10);
    const s = Array.from({ length: n }, () => (random() < 0.0005 ? pick(RARE) : zipfWord()));
    s[0] = s[0]![0]!.toUpperCase() + s[0]!.slice(1);
    sentences.push(`${s.join(' ')}.`);
    words += n;
  }
  const text = sentences.join(' ');
  const contact = random() < 0.8 ? pick(contacts) : null;
  const type = pick(TYPES);
  const createdAt = new Date(START + Math.floor(random() * SPAN));
  const r = random();
  return {
    id: randomUUID(),
    filename: `${type}-${zipfWord()}-${zipfWord()}-${Math.floor(random() * 1000)}.pdf`,
    text,
    keywords: [...new Set(Array.from({ length: 6 }, zipfWord))].slice(0, 5),
    contactId: contact?.id ?? null,
    contactName: contact?.name ?? null,
    documentType: type,
    status: r < 0.95 ? 'COMPLETED' : r < 0.98 ? 'FAILED' : 'PENDING',
    language: random() < 0.9 ? 'en' : pick(['fr', 'de', 'es']),
    createdAt,
    version: createdAt.getTime() + 60_000,
  };
}

// Query words drawn log-uniformly over the ranks: as many queries among the top 100 words as among ranks 1000-10000.
export const queryWord = () =>
  random() < 0.15
    ? pick(RARE)
    : vocabulary[Math.floor(Math.exp(random() * Math.log(Math.min(vocabulary.length, 20_000))))]!;
function typo(word: string): string {
  const i = 1 + Math.floor(random() * (word.length - 2));
  const edits = [
    () => word.slice(0, i) + word.slice(i + 1),
    () => word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2),
    () => word.slice(0, i) + pick([...'aeioulnrst']) + word.slice(i + 1),
  ];
  return pick(edits)();
}
const vocabSet = new Set(vocabulary);
export const typoQuery = () => {
  for (;;) {
    const w = queryWord();
    if (w.length < 6) continue;
    const t = typo(w);
    if (!vocabSet.has(t)) return t;
  }
};
const month = () => {
  const from = START + Math.floor(random() * (SPAN - 90 * 86_400_000));
  return { createdAfter: new Date(from), createdBefore: new Date(from + 90 * 86_400_000) };
};
export const randomFilter = (): SearchFilter =>
  pick<() => SearchFilter>([
    () => ({ documentType: pick(TYPES) }),
    () => ({ contactId: pick(contacts).id }),
    () => ({ status: 'COMPLETED' }),
    () => ({ language: 'en' }),
    () => month(),
    () => ({ documentType: pick(TYPES), status: 'COMPLETED', ...month() }),
  ])();
