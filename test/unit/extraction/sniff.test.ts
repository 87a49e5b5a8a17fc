import { describe, expect, it } from 'vitest';
import { EXTRACTABLE_TYPES, SNIFF_BYTES, sniffType } from '../../../src/services/extraction/sniff.ts';
import {
  makeDocx,
  makeOdt,
  makePdf,
  makeTextImage,
  makeXlsx,
  makeZip,
  pseudoRandomBytes,
  utf8,
} from '../../support/extraction-fixtures.ts';

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const head = (bytes: Uint8Array) => bytes.subarray(0, SNIFF_BYTES);

describe('sniffType', () => {
  it('exports the allow list', () => {
    expect([...EXTRACTABLE_TYPES].sort()).toEqual(
      [
        'application/pdf',
        DOCX,
        'text/markdown',
        'text/plain',
        'image/png',
        'image/jpeg',
        'image/tiff',
      ].sort(),
    );
  });

  it('recognises PNG, JPEG and TIFF images by their bytes, for OCR', async () => {
    const lines = ['Scanned'];
    expect(await sniffType(head(await makeTextImage(lines, 'png')), 'scan.pdf')).toBe('image/png');
    expect(await sniffType(head(await makeTextImage(lines, 'jpeg')), 'scan.txt')).toBe('image/jpeg');
    expect(await sniffType(head(await makeTextImage(lines, 'tiff')), 'scan')).toBe('image/tiff');
  });

  it('recognises a PDF by its bytes, whatever its name', async () => {
    const pdf = await makePdf(['Hello']);
    expect(await sniffType(head(pdf), 'report.pdf')).toBe('application/pdf');
    expect(await sniffType(head(pdf), 'notes.txt')).toBe('application/pdf');
    expect(await sniffType(head(pdf), 'readme.md')).toBe('application/pdf');
  });

  it('recognises a DOCX and tells it from other ZIP packages', async () => {
    const docx = await makeDocx(['Hello from Word']);
    expect(await sniffType(head(docx), 'letter.docx')).toBe(DOCX);
    expect(await sniffType(head(docx), 'letter.txt')).toBe(DOCX);
    expect(await sniffType(head(await makeXlsx()), 'sheet.docx')).toBeNull();
    expect(await sniffType(head(await makeOdt()), 'letter.docx')).toBeNull();
    expect(await sniffType(head(await makeZip({ 'a.txt': 'plain text' })), 'a.docx')).toBeNull();
    expect(
      await sniffType(head(await makeZip({ 'word/document.xml': '<w:document/>' })), 'a.docx'),
    ).toBeNull();
  });

  it('treats UTF-8 as text, Markdown only by a .md or .markdown name', async () => {
    const text = utf8('# Title\n\nCafé crème, naïve déjà-vu — 日本語 too.\r\n\tTabbed line.\n');
    expect(await sniffType(text, 'notes.txt')).toBe('text/plain');
    expect(await sniffType(text, 'notes')).toBe('text/plain');
    expect(await sniffType(text, 'README.md')).toBe('text/markdown');
    expect(await sniffType(text, 'guide.MarkDown')).toBe('text/markdown');
    expect(await sniffType(text, 'fake.pdf')).toBe('text/plain');
    expect(await sniffType(utf8('\uFEFFwith a byte order mark'), 'bom.txt')).toBe('text/plain');
  });

  it('accepts a multi-byte character cut at the end of the head, but not in the middle', async () => {
    const bytes = utf8(`${'a'.repeat(SNIFF_BYTES - 1)}é and more`);
    expect(bytes[SNIFF_BYTES - 1]).toBe(0xc3);
    expect(await sniffType(head(bytes), 'cut.txt')).toBe('text/plain');
    const broken = Uint8Array.from([...utf8('abc'), 0xc3, ...utf8('def')]);
    expect(await sniffType(broken, 'broken.txt')).toBeNull();
  });

  it('refuses Latin-1, NUL bytes and control-character noise', async () => {
    expect(
      await sniffType(Uint8Array.from([...utf8('caf'), 0xe9, ...utf8(' au lait')]), 'latin1.txt'),
    ).toBeNull();
    expect(await sniffType(utf8('text\u0000with a NUL'), 'nul.txt')).toBeNull();
    const noisy = utf8(Array.from({ length: 200 }, (_, i) => (i % 10 === 0 ? '\u0007' : 'x')).join(''));
    expect(await sniffType(noisy, 'noisy.txt')).toBeNull();
  });

  it('refuses other images, executables, archives and random bytes', async () => {
    const gif = utf8('GIF89a\x01\x00\x01\x00\x00\x00\x00;');
    const elf = new Uint8Array(64);
    elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    expect(await sniffType(gif, 'image.txt')).toBeNull();
    expect(await sniffType(elf, 'program.md')).toBeNull();
    expect(await sniffType(head(await makeZip({ 'a.txt': 'x' })), 'archive.txt')).toBeNull();
    expect(await sniffType(pseudoRandomBytes(SNIFF_BYTES), 'random.txt')).toBeNull();
    expect(await sniffType(pseudoRandomBytes(SNIFF_BYTES, 42), 'random.pdf')).toBeNull();
  });
});
