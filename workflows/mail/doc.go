// Package mail sends the service's e-mail.
//
// A Message is one finished e-mail with a fixed Message-ID that stays the same
// across retries, so that a receiving server or reader can recognise a
// duplicate. A Sender delivers messages. Two senders exist:
//
//   - SMTP sends through an SMTP server configured by one URL (DSAR_SMTP_URL),
//     dialling one connection per message, with STARTTLS or implicit TLS.
//   - Mailbox is the local mailbox of the embedded default mode: it writes
//     each message as an .eml file into a directory, byte for byte what SMTP
//     would have sent, and writing the same message twice leaves one file.
//
// Both build the message with github.com/wneessen/go-mail. IsPermanent tells a
// failure that retrying cannot fix (the server refused the message with a 5xx
// reply, or the message itself is invalid) from one that may pass later.
package mail
