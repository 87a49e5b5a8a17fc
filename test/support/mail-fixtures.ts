import type {
  ContactNotificationInput,
  NotificationDocument,
} from '../../src/services/mail/contact-notification.ts';

export const analysedPdf: NotificationDocument = {
  filename: 'report.pdf',
  contentType: 'application/pdf',
  size: 12_345,
  status: 'COMPLETED',
  insights: { wordCount: 1234, pageCount: 3, language: 'en', keywords: ['audit', 'tax'] },
};

export const pendingNote: NotificationDocument = {
  filename: 'notes.txt',
  contentType: 'text/plain',
  size: 512,
  status: 'PENDING',
  insights: null,
};

export function notificationInput(
  contact: Partial<ContactNotificationInput['contact']> = {},
  documents: NotificationDocument[] = [analysedPdf, pendingNote],
): ContactNotificationInput {
  return {
    from: 'Dossier <noreply@dossier.test>',
    to: ['owner@dossier.test'],
    contact: {
      id: '3f1c6a52-1b1e-4d8e-9d55-4f7f1b0c2a11',
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      company: 'Analytical Engines',
      service: 'Audit',
      message: 'Hello,\r\nplease call me.',
      source: 'website',
      createdAt: new Date('2025-01-02T03:04:05.000Z'),
      ...contact,
    },
    documents,
  };
}
