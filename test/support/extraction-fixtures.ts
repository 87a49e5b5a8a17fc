import { constants, crc32, deflateRawSync, deflateSync } from 'node:zlib';
import JSZip from 'jszip';
import PDFDocument from 'pdfkit';

/** A real PDF made by pdfkit: one page per entry, each page holding that text. */
export function makePdf(pages: string[]): Promise<Uint8Array> {
  return renderPdf((doc) => {
    for (const text of pages) doc.addPage().fontSize(14).text(text, { width: 450 });
  });
}

/** Pages carrying only vector drawings: a scan-like PDF with no text layer. */
export function makeDrawingOnlyPdf(pages: number): Promise<Uint8Array> {
  return renderPdf((doc) => {
    for (let i = 0; i < pages; i++) doc.addPage().rect(72, 72, 300, 400).fill('#888888');
  });
}

function renderPdf(draw: (doc: PDFKit.PDFDocument) => void): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ autoFirstPage: false });
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    doc.on('error', reject);
    draw(doc);
    doc.end();
  });
}

/**
 * A hostile but valid one-page PDF: its content stream is `ops` text-showing operators, deflated
 * (a few KB on disk, tens of MB once inflated), so parsing it costs time and memory.
 */
export function makeDeflateBombPdf(ops: number): Uint8Array {
  return pdfWithContent(deflateSync(Buffer.from('BT /F1 12 Tf 72 720 Td (w) Tj ET\n'.repeat(ops))));
}

/** A one-page PDF whose content stream, about 1 KB per inflated MiB on disk, inflates to `bytes`. */
export function makeInflatingPdf(bytes: number): Uint8Array {
  const raw = deflateRepeated('BT /F1 12 Tf 72 720 Td (', 'w', bytes, ') Tj ET\n');
  return pdfWithContent(Buffer.concat([Buffer.from([0x78, 0x9c]), raw])); // zlib header, no checksum
}

/**
 * A raw deflate stream of `prefix`, `unit` repeated to about `bytes`, then `suffix`, cheap to make:
 * one MiB is compressed once and its sync-flushed blocks repeated (they refer to nothing before them).
 */
function deflateRepeated(prefix: string, unit: string, bytes: number, suffix: string): Buffer {
  const chunk = Buffer.from(unit.repeat(Math.ceil(2 ** 20 / unit.length)));
  const flushed = (b: Buffer) => deflateRawSync(b, { finishFlush: constants.Z_SYNC_FLUSH, level: 9 });
  const block = flushed(chunk);
  const parts = [flushed(Buffer.from(prefix))];
  for (let n = 0; n < bytes; n += chunk.length) parts.push(block);
  parts.push(deflateRawSync(Buffer.from(suffix)));
  return Buffer.concat(parts);
}

function pdfWithContent(content: Buffer): Uint8Array {
  const objects: Buffer[] = [
    Buffer.from('<< /Type /Catalog /Pages 2 0 R >>'),
    Buffer.from('<< /Type /Pages /Kids [3 0 R] /Count 1 >>'),
    Buffer.from(
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    ),
    Buffer.concat([
      Buffer.from(`<< /Length ${content.length} /Filter /FlateDecode >>\nstream\n`),
      content,
      Buffer.from('\nendstream'),
    ]),
    Buffer.from('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'),
  ];
  const parts = [Buffer.from('%PDF-1.4\n')];
  const offsets: number[] = [];
  let length = parts[0]!.length;
  objects.forEach((body, i) => {
    const object = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), body, Buffer.from('\nendobj\n')]);
    offsets.push(length);
    parts.push(object);
    length += object.length;
  });
  const entries = offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('');
  parts.push(
    Buffer.from(
      `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${entries}` +
        `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`,
    ),
  );
  return new Uint8Array(Buffer.concat(parts));
}

const CONTENT_TYPES_NS = 'http://schemas.openxmlformats.org/package/2006/content-types';

function contentTypes(partName: string, contentType: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="${CONTENT_TYPES_NS}">` +
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
    '<Default Extension="xml" ContentType="application/xml"/>' +
    `<Override PartName="${partName}" ContentType="${contentType}"/></Types>`
  );
}

function rels(target: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' +
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" ' +
    `Target="${target}"/></Relationships>`
  );
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A minimal Word document: [Content_Types].xml, _rels/.rels and word/document.xml, one paragraph each. */
export function makeDocx(paragraphs: string[]): Promise<Uint8Array> {
  const zip = new JSZip();
  zip.file(
    '[Content_Types].xml',
    contentTypes(
      '/word/document.xml',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml',
    ),
  );
  zip.file('_rels/.rels', rels('word/document.xml'));
  const body = paragraphs.map((p) => `<w:p><w:r><w:t xml:space="preserve">${escapeXml(p)}</w:t></w:r></w:p>`);
  zip.file(
    'word/document.xml',
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' +
      '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">' +
      `<w:body>${body.join('')}</w:body></w:document>`,
  );
  return zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE' });
}

/**
 * A Word document that lies: its ZIP headers declare `word/document.xml` as 4 KB, while the entry
 * really inflates to about `bytes` of paragraphs (about 1 KB on disk per MiB).
 */
export function makeLyingDocx(bytes: number): Uint8Array {
  const honest = (name: string, text: string) => {
    const data = Buffer.from(text);
    return { name, deflated: deflateRawSync(data), size: data.length, crc: crc32(data) };
  };
  const document = {
    name: 'word/document.xml',
    deflated: deflateRepeated(
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document ' +
        'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>',
      '<w:p><w:r><w:t>lies</w:t></w:r></w:p>',
      bytes,
      '</w:body></w:document>',
    ),
    size: 4096,
    crc: 0,
  };
  return zipOf([
    honest(
      '[Content_Types].xml',
      contentTypes(
        '/word/document.xml',
        'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml',
      ),
    ),
    honest('_rels/.rels', rels('word/document.xml')),
    document,
  ]);
}

/** A ZIP written field by field, so its headers can declare whatever sizes the caller says. */
function zipOf(entries: { name: string; deflated: Buffer; size: number; crc: number }[]): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(e.crc, 14);
    local.writeUInt32LE(e.deflated.length, 18);
    local.writeUInt32LE(e.size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(e.crc, 16);
    central.writeUInt32LE(e.deflated.length, 20);
    central.writeUInt32LE(e.size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, e.deflated);
    centrals.push(central, name);
    offset += local.length + name.length + e.deflated.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, directory, end]));
}

/** A minimal spreadsheet package: the same ZIP layout as a DOCX, a different main part. */
export function makeXlsx(): Promise<Uint8Array> {
  const zip = new JSZip();
  zip.file(
    '[Content_Types].xml',
    contentTypes(
      '/xl/workbook.xml',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml',
    ),
  );
  zip.file('_rels/.rels', rels('xl/workbook.xml'));
  zip.file(
    'xl/workbook.xml',
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>',
  );
  return zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE' });
}

/** An OpenDocument text: a ZIP whose first, stored entry is `mimetype`. */
export function makeOdt(): Promise<Uint8Array> {
  const zip = new JSZip();
  zip.file('mimetype', 'application/vnd.oasis.opendocument.text', { compression: 'STORE' });
  zip.file(
    'content.xml',
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>',
  );
  return zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE' });
}

/** A ZIP holding exactly `files` (name to content). */
export function makeZip(files: Record<string, string>): Promise<Uint8Array> {
  const zip = new JSZip();
  for (const [name, content] of Object.entries(files)) zip.file(name, content);
  return zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE' });
}

/** Deterministic pseudo-random bytes (xorshift32), so a failure can be replayed. */
export function pseudoRandomBytes(length: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** `count` distinct pseudo-random lowercase words separated by spaces, as UTF-8. */
export function distinctWordsText(count: number): Uint8Array {
  const words: string[] = [];
  let x = 12345;
  for (let i = 0; i < count; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    words.push(`w${x.toString(36)}${i.toString(36)}`);
  }
  return new TextEncoder().encode(words.join(' '));
}

export const utf8 = (text: string) => new TextEncoder().encode(text);

/** Lines of black text on white, as a scanner or a phone camera would see a page (PNG, JPEG or TIFF). */
export async function makeTextImage(
  lines: string[],
  format: 'png' | 'jpeg' | 'tiff' = 'png',
): Promise<Uint8Array> {
  const { createCanvas } = await import('@napi-rs/canvas');
  const width = 1240;
  const height = 120 + lines.length * 60;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#000000';
  ctx.font = '36px sans-serif';
  for (const [i, line] of lines.entries()) ctx.fillText(line, 60, 100 + i * 60);
  if (format === 'png') return new Uint8Array(await canvas.encode('png'));
  if (format === 'jpeg') return new Uint8Array(await canvas.encode('jpeg', 90));
  const { default: UTIF } = await import('utif2');
  const rgba = ctx.getImageData(0, 0, width, height).data;
  return new Uint8Array(UTIF.encodeImage(new Uint8Array(rgba.buffer), width, height));
}

/**
 * A PDF of scanned pages (an image of the lines, no text layer) and text pages. A text page with
 * `invisible` has a text layer but shows nothing: OCR of it would find no words.
 */
export async function makeScannedPdf(
  pages: ({ scan: string[] } | { text: string; invisible?: boolean })[],
): Promise<Uint8Array> {
  const images = await Promise.all(
    pages.map((p) => ('scan' in p ? makeTextImage(p.scan) : Promise.resolve(null))),
  );
  return renderPdf((doc) => {
    pages.forEach((page, i) => {
      doc.addPage();
      const image = images[i];
      if (image) doc.image(Buffer.from(image), 36, 36, { width: 540 });
      else if ('text' in page)
        doc
          .fillOpacity(page.invisible ? 0 : 1)
          .fontSize(14)
          .text(page.text, { width: 450 });
    });
  });
}
