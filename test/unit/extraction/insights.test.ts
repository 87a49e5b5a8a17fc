import { describe, expect, it } from 'vitest';
import { computeInsights } from '../../../src/services/extraction/insights.ts';

const ENGLISH =
  'The committee reviewed the annual budget and approved the new research programme. ' +
  'Funding for the research programme will increase next year, while the budget for travel ' +
  'will be reduced. The committee also discussed hiring two engineers for the research team.';
const FRENCH =
  'Le comité a examiné le budget annuel et a approuvé le nouveau programme de recherche. ' +
  "L'entreprise augmentera le financement de la recherche l'année prochaine, tandis que le budget " +
  'des déplacements sera réduit pour toutes les équipes.';
const GERMAN =
  'Der Ausschuss hat den Jahreshaushalt geprüft und das neue Forschungsprogramm genehmigt. ' +
  'Die Finanzierung der Forschung wird im nächsten Jahr steigen, während das Budget für Reisen ' +
  'gekürzt wird. Außerdem wurde die Einstellung von zwei Ingenieuren besprochen.';

describe('computeInsights', () => {
  it('counts words the Unicode way', () => {
    expect(computeInsights("Hello, world! It's a fine day — isn't it?", null).wordCount).toBe(8);
    expect(computeInsights('naïve café déjà-vu 2024 3.14', null).wordCount).toBe(6);
    expect(computeInsights('Привет мир, γειά σου κόσμε', null).wordCount).toBe(5);
    expect(computeInsights('  \n\t ', null).wordCount).toBe(0);
  });

  it('detects English, French and German as ISO 639-1 codes', () => {
    expect(computeInsights(ENGLISH, null).language).toBe('en');
    expect(computeInsights(FRENCH, null).language).toBe('fr');
    expect(computeInsights(GERMAN, null).language).toBe('de');
  });

  it('leaves the language null when the text is too short to tell', () => {
    expect(computeInsights('', null).language).toBeNull();
    expect(computeInsights('Hello', null).language).toBeNull();
    expect(computeInsights('1234 5678 91011', null).language).toBeNull();
  });

  it('ranks keywords by frequency without stop words, numbers or short words', () => {
    const { keywords } = computeInsights(ENGLISH, null);
    expect(keywords.slice(0, 4)).toEqual(['research', 'budget', 'committee', 'programme']);
    expect(keywords).toHaveLength(10);
    for (const dropped of ['the', 'and', 'for', 'be', 'two', 'also']) expect(keywords).not.toContain(dropped);
    const withNumbers = computeInsights(
      '2024 2024 2024 ox ox ox ox zebra Zebra 3.14 3.14 42kg',
      null,
    ).keywords;
    expect(withNumbers).toEqual(['zebra', '42kg']);
  });

  it("uses the detected language's stop words and drops elisions", () => {
    const { keywords } = computeInsights(FRENCH, null);
    expect(keywords.slice(0, 3)).toEqual(['budget', 'recherche', 'annuel']);
    expect(keywords).toContain('entreprise');
    for (const dropped of ['les', 'des', 'que', 'sera', "l'entreprise"])
      expect(keywords).not.toContain(dropped);
    expect(computeInsights(GERMAN, null).keywords).not.toContain('der');
  });

  it('breaks ties alphabetically and returns the same answer every time', () => {
    const text = 'zulu yankee xray whiskey victor uniform tango sierra romeo quebec papa oscar';
    const first = computeInsights(text, null);
    expect(first.keywords).toEqual([
      'oscar',
      'papa',
      'quebec',
      'romeo',
      'sierra',
      'tango',
      'uniform',
      'victor',
      'whiskey',
      'xray',
    ]);
    expect(computeInsights(text, null)).toEqual(first);
    expect(computeInsights(text.split(' ').reverse().join(' '), null).keywords).toEqual(first.keywords);
  });

  it('agrees with a full sort on a larger vocabulary', () => {
    const vocabulary = Array.from({ length: 60 }, (_, i) => `term${String.fromCharCode(97 + (i % 26))}${i}`);
    const words: string[] = [];
    let x = 7;
    for (let i = 0; i < 5000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      words.push(vocabulary[Math.floor(((x >>> 8) % 3600) ** 0.5)]!); // skewed towards later terms
    }
    const counts = new Map<string, number>();
    for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
    const expected = [...counts]
      .sort(([a, m], [b, n]) => n - m || (a < b ? -1 : 1))
      .slice(0, 10)
      .map(([w]) => w);
    expect(computeInsights(words.join(' '), null).keywords).toEqual(expected);
  });

  it('handles a vocabulary past its tracking cap, counting every word', () => {
    const words = ['frequent', 'frequent', 'frequent'];
    for (let i = 0; i < 150_000; i++) words.push(`v${i.toString(36)}x`);
    const insights = computeInsights(words.join(' '), null);
    expect(insights.wordCount).toBe(150_003);
    expect(insights.keywords[0]).toBe('frequent');
    expect(insights.keywords).toHaveLength(10);
  });

  it('asks for OCR only for a PDF with pages and (almost) no text', () => {
    expect(computeInsights('', 3).needsOcr).toBe(true);
    expect(computeInsights('12\n\n13\n\n14', 3).needsOcr).toBe(true);
    expect(computeInsights(ENGLISH, 1).needsOcr).toBe(false);
    expect(computeInsights('', 0).needsOcr).toBe(false);
    expect(computeInsights('', null).needsOcr).toBe(false);
    expect(computeInsights(ENGLISH, 2)).toMatchObject({ pageCount: 2, wordCount: 40 });
  });
});
