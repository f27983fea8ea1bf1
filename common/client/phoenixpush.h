#pragma once

#include <QBasicTimer>
#include <QJsonObject>
#include <QJsonValue>
#include <QObject>
#include <QString>

namespace Omw::Phoenix {

class Channel;

// One message sent on a Channel, waiting for its `phx_reply`.
//
// Exactly one of replied(), timedOut() or failed() is emitted, never synchronously from
// Channel::push(), so a caller can connect to the push after creating it. With autoDelete()
// (the default) the push then deletes itself with deleteLater().
class Push : public QObject
{
    Q_OBJECT
    Q_PROPERTY(QString event READ event CONSTANT)
    Q_PROPERTY(QJsonObject payload READ payload CONSTANT)
    Q_PROPERTY(State state READ state NOTIFY stateChanged)
    Q_PROPERTY(Error error READ error NOTIFY failed)
    Q_PROPERTY(QString errorString READ errorString NOTIFY failed)
    Q_PROPERTY(QString status READ status NOTIFY replied)
    Q_PROPERTY(QJsonValue response READ response NOTIFY replied)

public:
    enum class State {
        Queued, // waiting for the channel to be joined
        Sent, // on the wire, waiting for the reply
        Replied,
        TimedOut,
        Failed,
    };
    Q_ENUM(State)

    enum class Error {
        NoError,
        NotJoined, // the channel was not joined and the push was not to be queued
        ConnectionLost, // the connection dropped before the reply arrived
        ChannelLeft, // the channel was left, closed or deleted before the reply arrived
        ChannelRejoined, // the channel rejoined before the reply arrived; the reply is stale
    };
    Q_ENUM(Error)

    ~Push() override;

    Channel *channel() const { return m_channel; }
    QString event() const { return m_event; }
    QJsonObject payload() const { return m_payload; }
    int timeout() const { return m_timeout; } // milliseconds, counted from sending
    // The ref of the frame, or an empty string while queued.
    QString ref() const { return m_ref; }
    State state() const { return m_state; }
    bool isFinished() const
    {
        return m_state == State::Replied || m_state == State::TimedOut || m_state == State::Failed;
    }
    Error error() const { return m_error; }
    QString errorString() const { return m_errorString; }
    // `ok` or `error` once replied, else empty.
    QString status() const { return m_status; }
    QJsonValue response() const { return m_response; }

    bool autoDelete() const { return m_autoDelete; }
    void setAutoDelete(bool autoDelete) { m_autoDelete = autoDelete; }

Q_SIGNALS:
    void stateChanged(Omw::Phoenix::Push::State state);
    // The server replied; `status` is `ok` or `error`.
    void replied(const QString &status, const QJsonValue &response);
    void timedOut();
    void failed(Omw::Phoenix::Push::Error error);

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    friend class Channel;

    Push(Channel *channel, const QString &event, const QJsonObject &payload, int timeout);

    void markSent(const QString &ref);
    void failLater(Error error, const QString &errorString);
    void finishReplied(const QString &status, const QJsonValue &response);
    void finishFailed(Error error, const QString &errorString);
    void finishTimedOut();
    void finish(State state);
    void cleanUp();
    void setState(State state);

    Channel *m_channel = nullptr;
    QString m_event;
    QJsonObject m_payload;
    int m_timeout = 0;
    QString m_ref;
    State m_state = State::Queued;
    Error m_error = Error::NoError;
    QString m_errorString;
    QString m_status;
    QJsonValue m_response;
    bool m_autoDelete = true;
    QBasicTimer m_timeoutTimer;
};

} // namespace Omw::Phoenix
