#pragma once

#include <QBuffer>
#include <QColor>
#include <QImage>
#include <QList>
#include <QTcpServer>
#include <QTcpSocket>

// A minimal HTTP/1.1 tile server on 127.0.0.1 for tests. GET /Z/X/Y.png returns a 256x256 PNG
// filled with tileColor(Z, X, Y); any other path returns 404. It records every request's path
// and User-Agent.
class LoopbackTileServer : public QTcpServer
{
public:
    struct Request
    {
        QByteArray path;
        QByteArray userAgent;
    };

    LoopbackTileServer()
    {
        connect(this, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = nextPendingConnection()) {
                connect(socket, &QTcpSocket::readyRead, this, [this, socket] { serve(socket); });
                connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
    }

    bool start() { return listen(QHostAddress::LocalHost, 0); }
    QString urlTemplate() const
    {
        return QStringLiteral("http://127.0.0.1:%1/{z}/{x}/{y}.png").arg(serverPort());
    }
    const QList<Request> &requests() const { return m_requests; }

    static QColor tileColor(int z, int x, int y)
    {
        return QColor((z * 40) % 256, (x * 70 + 20) % 256, (y * 90 + 40) % 256);
    }
    static QByteArray tilePng(int z, int x, int y)
    {
        QImage image(256, 256, QImage::Format_RGB32);
        image.fill(tileColor(z, x, y));
        QByteArray data;
        QBuffer buffer(&data);
        buffer.open(QIODevice::WriteOnly);
        image.save(&buffer, "PNG");
        return data;
    }

private:
    void serve(QTcpSocket *socket)
    {
        QByteArray &buffer = m_buffers[socket];
        buffer += socket->readAll();
        int end;
        while ((end = buffer.indexOf("\r\n\r\n")) >= 0) {
            const QByteArray head = buffer.left(end);
            buffer.remove(0, end + 4);
            const QList<QByteArray> lines = head.split('\n');
            const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
            Request request;
            request.path = requestLine.value(1);
            for (const QByteArray &line : lines) {
                if (line.toLower().startsWith("user-agent:")) {
                    request.userAgent = line.mid(11).trimmed();
                }
            }
            m_requests.append(request);
            socket->write(respond(request.path));
        }
    }

    static QByteArray respond(const QByteArray &path)
    {
        const QList<QByteArray> parts = path.split('/');
        bool okZ = false, okX = false, okY = false;
        int z = 0, x = 0, y = 0;
        if (parts.size() == 4 && parts.at(3).endsWith(".png")) {
            z = parts.at(1).toInt(&okZ);
            x = parts.at(2).toInt(&okX);
            y = parts.at(3).chopped(4).toInt(&okY);
        }
        if (!okZ || !okX || !okY) {
            const QByteArray body = "not found";
            return "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: "
                + QByteArray::number(body.size()) + "\r\n\r\n" + body;
        }
        const QByteArray body = tilePng(z, x, y);
        return "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nCache-Control: max-age=604800\r\n"
               "Content-Length: "
            + QByteArray::number(body.size()) + "\r\n\r\n" + body;
    }

    QList<Request> m_requests;
    QHash<QTcpSocket *, QByteArray> m_buffers;
};
