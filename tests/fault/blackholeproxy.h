#pragma once

// A TCP proxy on loopback that forwards every byte between a client and the server until it is
// switched to a black hole: then it stops forwarding in both directions but keeps both sockets
// open, so neither side sees a FIN or an RST. This is what a client behind a dead NAT or a phone
// in a tunnel looks like to the server.

#include <QList>
#include <QObject>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>

class BlackHoleProxy : public QObject
{
    Q_OBJECT

public:
    explicit BlackHoleProxy(quint16 targetPort, QObject *parent = nullptr)
        : QObject(parent), m_targetPort(targetPort)
    {
        connect(&m_server, &QTcpServer::newConnection, this, &BlackHoleProxy::accept);
    }

    bool listen() { return m_server.listen(QHostAddress::LocalHost, 0); }
    quint16 port() const { return m_server.serverPort(); }

    // Stops forwarding; bytes that arrive afterwards are read and dropped.
    void swallow() { m_swallowing = true; }

private:
    void accept()
    {
        while (QTcpSocket *client = m_server.nextPendingConnection()) {
            auto *upstream = new QTcpSocket(client);
            upstream->connectToHost(QHostAddress::LocalHost, m_targetPort);
            forward(client, upstream);
            forward(upstream, client);
        }
    }

    void forward(QTcpSocket *from, QTcpSocket *to)
    {
        connect(from, &QTcpSocket::readyRead, this, [this, from, to] {
            const QByteArray bytes = from->readAll();
            if (!m_swallowing) {
                to->write(bytes);
            }
        });
        connect(from, &QTcpSocket::disconnected, this, [this, to] {
            if (!m_swallowing) {
                to->disconnectFromHost();
            }
        });
    }

    QTcpServer m_server;
    quint16 m_targetPort;
    bool m_swallowing = false;
};
