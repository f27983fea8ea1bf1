#pragma once

#include <QByteArray>
#include <QHash>
#include <QString>
#include <QUrl>

namespace Omw {

// The head of an HTTP/1.1 request (request line and headers), read before deciding whether a
// connection is a WebSocket upgrade or a plain HTTP request.
struct HttpRequestHead
{
    enum Status {
        Incomplete, // the blank line that ends the head has not arrived yet
        Complete,
        Invalid, // not an HTTP/1.x request head
        TooLarge, // no end of head within maxSize bytes
    };

    static constexpr int maxSize = 16 * 1024;

    QByteArray method;
    QUrl url; // path and query of the request target
    QHash<QByteArray, QByteArray> headers; // names in lower case
    int size = 0; // bytes of the head, blank line included

    QByteArray header(const QByteArray &lowerCaseName) const
    {
        return headers.value(lowerCaseName);
    }
    bool isWebSocketUpgrade() const;

    // Parses the head at the start of `data`.
    static Status parse(const QByteArray &data, HttpRequestHead *head);
};

// A complete HTTP/1.1 response that closes the connection after it.
QByteArray httpResponse(int status, const QByteArray &contentType, const QByteArray &body);
// A JSON error body: {"error": message} plus any details.
QByteArray httpJsonError(int status, const QString &message);

} // namespace Omw
