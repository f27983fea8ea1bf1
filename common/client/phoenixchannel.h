#pragma once

#include "phoenixpush.h"

#include <QBasicTimer>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QLoggingCategory>
#include <QObject>
#include <QPointer>

Q_DECLARE_LOGGING_CATEGORY(lcClientChannel)

namespace Omw::Phoenix {

struct Message;
class Socket;

// One Phoenix channel on a Socket: a topic joined with params.
//
// After join() the channel stays wanted until leave(): it rejoins after every reconnect, each
// time with a fresh join_ref, and ignores every frame that carries another join_ref (replies
// and closes of an earlier join). Broadcasts carry a null join_ref and are always delivered.
// A join that gets no reply within joinTimeout() is retried with the socket's backoff. A join
// rejected with an `error` reply is not retried until the next reconnect or join().
class Channel : public QObject
{
    Q_OBJECT
    Q_PROPERTY(QString topic READ topic CONSTANT)
    Q_PROPERTY(State state READ state NOTIFY stateChanged)
    Q_PROPERTY(Error error READ error NOTIFY errorOccurred)
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorStringChanged)
    Q_PROPERTY(QJsonObject params READ params WRITE setParams NOTIFY paramsChanged)
    Q_PROPERTY(QJsonValue joinResponse READ joinResponse NOTIFY joined)
    Q_PROPERTY(int joinTimeout READ joinTimeout WRITE setJoinTimeout NOTIFY joinTimeoutChanged)

public:
    enum class State {
        Closed, // never joined, or left
        Joining, // phx_join sent, waiting for its reply
        Joined,
        Leaving, // phx_leave sent, waiting for its reply
        Errored, // wanted, but not joined: connection lost, join rejected or timed out
    };
    Q_ENUM(State)

    enum class Error {
        NoError,
        JoinRejected, // the join got an `error` reply; errorString() has its reason
        JoinTimedOut, // no join reply within joinTimeout()
        ClosedByServer, // phx_close or phx_error for the current join
        ConnectionLost, // the socket lost its connection while joined
    };
    Q_ENUM(Error)

    // Behaviour of push() while the channel is not joined at the moment (socket down, or a join
    // in progress) although join() was called.
    enum class QueueMode {
        QueueUntilJoined, // keep the push and send it once the channel is joined again
        FailUnlessJoined, // fail it at once with Push::Error::NotJoined
    };
    Q_ENUM(QueueMode)

    static constexpr int defaultJoinTimeout = 10'000; // milliseconds
    static constexpr int defaultPushTimeout = 10'000; // milliseconds

    ~Channel() override;

    Socket *socket() const { return m_socket; }
    QString topic() const { return m_topic; }
    State state() const { return m_state; }
    bool isJoined() const { return m_state == State::Joined; }
    Error error() const { return m_error; }
    QString errorString() const { return m_errorString; }

    // The join params. A change takes effect at the next join: after a reconnect, or at once
    // with rejoin().
    QJsonObject params() const { return m_params; }
    void setParams(const QJsonObject &params);

    // The current join_ref, or an empty string when no join was sent since the last leave.
    QString joinRef() const { return m_joinRef; }
    // The `response` of the last successful join reply (Omw servers send a snapshot).
    QJsonValue joinResponse() const { return m_joinResponse; }

    int joinTimeout() const { return m_joinTimeout; } // milliseconds
    void setJoinTimeout(int milliseconds);

    // Sends `event` with `payload` and returns the push, which reports its reply, timeout or
    // failure through its signals and then deletes itself (see Push::setAutoDelete()).
    // `timeout` is in milliseconds and counts from when the push goes out on the wire; a
    // negative value selects defaultPushTimeout. A push made before join() or after leave()
    // fails with Push::Error::NotJoined whatever the mode.
    Push *push(const QString &event, const QJsonObject &payload = {}, int timeout = -1,
               QueueMode mode = QueueMode::QueueUntilJoined);

    // Number of running timers of this channel and its pushes.
    int activeTimerCount() const;

public Q_SLOTS:
    // Joins now when the socket is connected, else as soon as it connects.
    void join();
    // Sends a new phx_join with the current params and a fresh join_ref, even when joined.
    void rejoin();
    // Leaves the channel: sends phx_leave when joined, and stops rejoining. Queued pushes fail
    // with Push::Error::ChannelLeft.
    void leave();

Q_SIGNALS:
    void stateChanged(Omw::Phoenix::Channel::State state);
    // The join succeeded; `response` is the reply's response.
    void joined(const QJsonValue &response);
    // The join got an `error` reply.
    void joinRejected(const QJsonValue &response);
    // The leave was acknowledged, or the socket is not connected and the channel is closed.
    void left();
    // A frame for this topic that is not a reply: a broadcast or a server push.
    void messageReceived(const QString &event, const QJsonObject &payload);
    void errorOccurred(Omw::Phoenix::Channel::Error error);
    void errorStringChanged();
    void paramsChanged();
    void joinTimeoutChanged();

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    friend class Socket;
    friend class Push;

    Channel(Socket *socket, const QString &topic, const QJsonObject &params);

    void setState(State state);
    void setError(Error error, const QString &errorString);
    void sendJoin();
    void handleMessage(const Message &message);
    void handleJoinReply(const QString &status, const QJsonValue &response);
    void handleSocketConnected();
    void handleSocketDisconnected();
    void flushQueue();
    void failPushes(QList<QPointer<Push>> &pushes, Push::Error error, const QString &errorString);
    void sendPush(Push *push);
    void forgetPush(Push *push);

    Socket *m_socket = nullptr;
    QString m_topic;
    QJsonObject m_params;
    State m_state = State::Closed;
    Error m_error = Error::NoError;
    QString m_errorString;
    bool m_joinRequested = false;
    QString m_joinRef;
    QString m_leaveRef;
    QJsonValue m_joinResponse;
    int m_joinTimeout = defaultJoinTimeout;
    int m_joinAttempt = 0;
    QBasicTimer m_joinTimer;
    QBasicTimer m_rejoinTimer;
    QList<QPointer<Push>> m_queued; // waiting for the channel to be joined
    QList<QPointer<Push>> m_sent; // sent under the current join_ref, waiting for a reply
};

} // namespace Omw::Phoenix
