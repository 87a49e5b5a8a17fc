import JSZip from 'jszip';
import { createExtractionPool } from './src/services/extraction/extraction-pool.ts';
const mb = Number(process.argv[2]);
const para = '<w:p><w:r><w:t>Some words in a paragraph that repeats many times over.</w:t></w:r></w:p>';
const zip = new JSZip();
zip.file('[Content_Types].xml', '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>');
zip.file('_rels/.rels', '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>');
zip.file('word/document.xml', `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${para.repeat(Math.floor(mb * 1e6 / para.length))}</w:body></w:document>`);
const bytes = await zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE', compressionOptions: { level: 9 } });
console.log('docx bytes', bytes.byteLength);
const pool = createExtractionPool({ threads: 1, timeoutMs: 60000, maxMemoryMb: Number(process.argv[3] ?? 256) });
try { const r = await pool.extract(bytes, 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'); console.log('ok', r.insights.wordCount); }
catch (e) { console.log('err', (e as any).reason, (e as Error).message); }
console.log('main process alive');
await pool.close();
