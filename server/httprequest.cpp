#include "httprequest.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace Omw {

bool HttpRequestHead::isWebSocketUpgrade() const
{
    return header("upgrade").toLower().contains("websocket")
        && header("connection").toLower().contains("upgrade");
}

HttpRequestHead::Status HttpRequestHead::parse(const QByteArray &data, HttpRequestHead *head)
{
    const qsizetype end = data.indexOf("\r\n\r\n");
    if (end < 0) {
        return data.size() >= maxSize ? TooLarge : Incomplete;
    }
    if (end + 4 > maxSize) {
        return TooLarge;
    }
    const QList<QByteArray> lines = data.left(end).split('\n');
    const QList<QByteArray> requestLine = lines.first().trimmed().split(' ');
    if (requestLine.size() != 3 || !requestLine.at(2).startsWith("HTTP/1.")) {
        return Invalid;
    }
    head->method = requestLine.at(0);
    head->url = QUrl::fromEncoded(requestLine.at(1));
    if (!head->url.isValid() || !requestLine.at(1).startsWith('/')) {
        return Invalid;
    }
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray &line = lines.at(i);
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0) {
            return Invalid;
        }
        head->headers.insert(line.left(colon).trimmed().toLower(), line.mid(colon + 1).trimmed());
    }
    head->size = int(end + 4);
    return Complete;
}

QByteArray httpResponse(int status, const QByteArray &contentType, const QByteArray &body)
{
    QByteArray reason;
    switch (status) {
    case 200:
        reason = "OK";
        break;
    case 400:
        reason = "Bad Request";
        break;
    case 403:
        reason = "Forbidden";
        break;
    case 404:
        reason = "Not Found";
        break;
    case 405:
        reason = "Method Not Allowed";
        break;
    case 426:
        reason = "Upgrade Required";
        break;
    case 431:
        reason = "Request Header Fields Too Large";
        break;
    case 503:
        reason = "Service Unavailable";
        break;
    default:
        reason = "Error";
        break;
    }
    return "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason + "\r\nContent-Type: "
        + contentType + "\r\nContent-Length: " + QByteArray::number(body.size())
        + "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n" + body;
}

QByteArray httpJsonError(int status, const QString &message)
{
    const QByteArray body = QJsonDocument(QJsonObject {{QStringLiteral("error"), message},
                                                       {QStringLiteral("status"), status}})
                                .toJson(QJsonDocument::Compact);
    return httpResponse(status, "application/json", body + '\n');
}

} // namespace Omw
