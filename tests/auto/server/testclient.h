#pragma once

#include "phoenixcodec.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QSignalSpy>
#include <QTest>
#include <QUrl>
#include <QWebSocket>

// A raw Phoenix client for server tests: a real QWebSocket that sends frames as given and
// records every frame it receives, so that tests can assert exact frames in order.
class TestClient : public QObject
{
    Q_OBJECT

public:
    explicit TestClient(QObject *parent = nullptr) : QObject(parent)
    {
        connect(&m_socket, &QWebSocket::textMessageReceived, this,
                [this](const QString &text) { m_frames.append(text); });
    }

    QWebSocket &socket() { return m_socket; }

    // Connects to ws://127.0.0.1:PORT/socket/websocket?QUERY and waits for the upgrade.
    bool open(quint16 port, const QString &query = QStringLiteral("vsn=2.0.0"),
              const QString &host = QStringLiteral("127.0.0.1"))
    {
        QSignalSpy connected(&m_socket, &QWebSocket::connected);
        m_socket.open(
            QUrl(QStringLiteral("ws://%1:%2/socket/websocket?%3").arg(host).arg(port).arg(query)));
        return connected.wait(5000);
    }

    void sendText(const QByteArray &text) { m_socket.sendTextMessage(QString::fromUtf8(text)); }

    // Sends a V2 frame [joinRef, ref, topic, event, payload].
    void send(const QJsonValue &joinRef, const QJsonValue &ref, const QString &topic,
              const QString &event, const QJsonValue &payload = QJsonObject())
    {
        sendText(QJsonDocument(QJsonArray {joinRef, ref, topic, event, payload})
                     .toJson(QJsonDocument::Compact));
    }

    // Waits until at least `count` unread frames have arrived.
    bool waitForFrames(int count, int timeout = 5000)
    {
        return QTest::qWaitFor([&] { return m_frames.size() - m_read >= count; }, timeout);
    }

    // Returns the next unread frame as JSON, waiting for it; a null value on time-out.
    QJsonValue next(int timeout = 5000)
    {
        if (!waitFor(timeout)) {
            return QJsonValue();
        }
        const QJsonDocument document = QJsonDocument::fromJson(m_frames.at(m_read++).toUtf8());
        return document.isArray() ? QJsonValue(document.array()) : QJsonValue(document.object());
    }

    // Returns the next unread frame as text, waiting for it; empty on time-out.
    QString nextText(int timeout = 5000)
    {
        return waitFor(timeout) ? m_frames.at(m_read++) : QString();
    }

    int unread() const { return int(m_frames.size()) - m_read; }
    const QStringList &frames() const { return m_frames; }

    // Joins `topic` with `joinRef` as both refs and returns the reply's payload.
    QJsonObject join(const QString &topic, const QString &joinRef,
                     const QJsonObject &params = QJsonObject())
    {
        send(joinRef, joinRef, topic, QStringLiteral("phx_join"), params);
        return next().toArray().at(4).toObject();
    }

    bool waitForDisconnect(int timeout = 5000)
    {
        if (m_socket.state() == QAbstractSocket::UnconnectedState) {
            return true;
        }
        QSignalSpy disconnected(&m_socket, &QWebSocket::disconnected);
        return disconnected.wait(timeout);
    }

private:
    bool waitFor(int timeout)
    {
        return QTest::qWaitFor([&] { return m_frames.size() > m_read; }, timeout);
    }

    QWebSocket m_socket;
    QStringList m_frames;
    int m_read = 0;
};

// Parses a JSON text for comparisons.
inline QJsonValue json(const char *text)
{
    const QJsonDocument document = QJsonDocument::fromJson(text);
    return document.isArray() ? QJsonValue(document.array()) : QJsonValue(document.object());
}
