#include "phoenixchannel.h"

#include "phoenixmessage.h"
#include "phoenixsocket.h"

#include <QTimerEvent>

Q_LOGGING_CATEGORY(lcClientChannel, "omw.client.channel", QtInfoMsg)

namespace Omw::Phoenix {

namespace {

const QString statusKey = QStringLiteral("status");
const QString responseKey = QStringLiteral("response");
const QString reasonKey = QStringLiteral("reason");
const QString okStatus = QStringLiteral("ok");

// The reason of an error response, for messages: `reason` and `message` when present.
QString describeResponse(const QJsonValue &response)
{
    const QJsonObject object = response.toObject();
    QString reason = object.value(reasonKey).toString();
    const QString message = object.value(QStringLiteral("message")).toString();
    if (!message.isEmpty())
        reason = reason.isEmpty() ? message : reason + QStringLiteral(": ") + message;
    if (reason.isEmpty() && response.isString())
        reason = response.toString();
    return reason.isEmpty() ? QStringLiteral("no reason given") : reason;
}

} // namespace

Channel::Channel(Socket *socket, const QString &topic, const QJsonObject &params)
    : QObject(socket), m_socket(socket), m_topic(topic), m_params(params)
{
}

Channel::~Channel()
{
    // Pushes unregister from this channel in their destructors, so they go while it is whole.
    qDeleteAll(findChildren<Push *>(QString(), Qt::FindDirectChildrenOnly));
    m_socket->removeChannel(this);
}

void Channel::setParams(const QJsonObject &params)
{
    if (m_params == params)
        return;
    m_params = params;
    emit paramsChanged();
}

void Channel::setJoinTimeout(int milliseconds)
{
    milliseconds = std::max(1, milliseconds);
    if (m_joinTimeout == milliseconds)
        return;
    m_joinTimeout = milliseconds;
    emit joinTimeoutChanged();
}

int Channel::activeTimerCount() const
{
    int count = int(m_joinTimer.isActive()) + int(m_rejoinTimer.isActive());
    for (const QPointer<Push> &push : m_sent) {
        if (push && push->m_timeoutTimer.isActive())
            ++count;
    }
    return count;
}

void Channel::join()
{
    if (m_joinRequested && (m_state == State::Joining || m_state == State::Joined)) {
        qCDebug(lcClientChannel) << "join of" << m_topic << "ignored: already" << m_state;
        return;
    }
    m_joinRequested = true;
    m_joinAttempt = 0;
    m_rejoinTimer.stop();
    setState(State::Joining);
    if (m_socket->isConnected())
        sendJoin();
}

void Channel::rejoin()
{
    if (!m_joinRequested) {
        join();
        return;
    }
    m_rejoinTimer.stop();
    setState(State::Joining);
    if (m_socket->isConnected())
        sendJoin();
}

void Channel::leave()
{
    const bool wasJoinRequested = m_joinRequested;
    m_joinRequested = false;
    m_rejoinTimer.stop();
    m_joinTimer.stop();
    failPushes(m_queued, Push::Error::ChannelLeft,
               tr("channel %1 was left before the push was sent").arg(m_topic));
    if (m_socket->isConnected() && (m_state == State::Joined || m_state == State::Joining)) {
        qCInfo(lcClientChannel) << "leaving" << m_topic << "join_ref" << m_joinRef;
        m_leaveRef = m_socket->makeRef();
        m_socket->send({m_joinRef, m_leaveRef, m_topic, Event::leave, QJsonObject()});
        setState(State::Leaving);
        // The join timer doubles as the leave timeout: a lost leave reply still closes.
        m_joinTimer.start(m_joinTimeout, this);
        return;
    }
    failPushes(m_sent, Push::Error::ChannelLeft,
               tr("channel %1 was left before the reply arrived").arg(m_topic));
    m_joinRef.clear();
    setState(State::Closed);
    if (wasJoinRequested)
        emit left();
}

Push *Channel::push(const QString &event, const QJsonObject &payload, int timeout, QueueMode mode)
{
    auto *push = new Push(this, event, payload, timeout < 0 ? defaultPushTimeout : timeout);
    if (!m_joinRequested) {
        push->failLater(Push::Error::NotJoined,
                        tr("cannot push %1 on %2: the channel is not joined").arg(event, m_topic));
    } else if (m_state == State::Joined && m_socket->isConnected()) {
        sendPush(push);
    } else if (mode == QueueMode::QueueUntilJoined) {
        m_queued.append(push);
    } else {
        push->failLater(
            Push::Error::NotJoined,
            tr("cannot push %1 on %2 now: the channel is %3")
                .arg(event, m_topic, m_socket->isConnected() ? tr("joining") : tr("disconnected")));
    }
    return push;
}

void Channel::sendPush(Push *push)
{
    const QString ref = m_socket->makeRef();
    m_socket->send({m_joinRef, ref, m_topic, push->event(), push->payload()});
    push->markSent(ref);
    m_sent.append(push);
}

void Channel::forgetPush(Push *push)
{
    m_sent.removeAll(push);
    m_queued.removeAll(push);
}

void Channel::failPushes(QList<QPointer<Push>> &pushes, Push::Error error,
                         const QString &errorString)
{
    const QList<QPointer<Push>> failing = std::exchange(pushes, {});
    for (const QPointer<Push> &push : failing) {
        if (push && !push->isFinished())
            push->finishFailed(error, errorString);
    }
}

void Channel::flushQueue()
{
    const QList<QPointer<Push>> queued = std::exchange(m_queued, {});
    for (const QPointer<Push> &push : queued) {
        if (!push || push->isFinished())
            continue;
        if (m_state != State::Joined || !m_socket->isConnected()) {
            m_queued.append(push);
            continue;
        }
        sendPush(push);
    }
}

void Channel::sendJoin()
{
    failPushes(m_sent, Push::Error::ChannelRejoined,
               tr("channel %1 rejoined before the reply arrived").arg(m_topic));
    m_joinRef = m_socket->makeRef();
    qCInfo(lcClientChannel) << "joining" << m_topic << "join_ref" << m_joinRef;
    m_socket->send({m_joinRef, m_joinRef, m_topic, Event::join, m_params});
    setState(State::Joining);
    m_joinTimer.start(m_joinTimeout, this);
}

void Channel::handleSocketConnected()
{
    if (!m_joinRequested)
        return;
    m_joinAttempt = 0;
    m_rejoinTimer.stop();
    sendJoin();
}

void Channel::handleSocketDisconnected()
{
    m_joinTimer.stop();
    m_rejoinTimer.stop();
    failPushes(m_sent, Push::Error::ConnectionLost,
               tr("the connection dropped before the reply arrived"));
    if (m_state == State::Leaving) {
        m_joinRef.clear();
        setState(State::Closed);
        emit left();
        return;
    }
    if (!m_joinRequested)
        return;
    const bool wasJoined = m_state == State::Joined;
    setState(State::Errored);
    if (wasJoined) {
        setError(Error::ConnectionLost,
                 tr("channel %1 lost its connection; it rejoins after the reconnect").arg(m_topic));
    }
}

void Channel::handleMessage(const Message &message)
{
    // Frames of an earlier join (its replies, its phx_close) carry that join's join_ref.
    if (message.joinRef.isString() && message.joinRef.toString() != m_joinRef) {
        qCDebug(lcClientChannel) << "ignored" << message.event << "on" << m_topic
                                 << "of the earlier join_ref" << message.joinRef.toString()
                                 << "(current" << m_joinRef << ")";
        return;
    }
    if (message.event == Event::reply) {
        const QString ref = message.ref.toString();
        const QJsonObject payload = message.payload.toObject();
        const QString status = payload.value(statusKey).toString();
        const QJsonValue response = payload.value(responseKey);
        if (m_state == State::Joining && ref == m_joinRef) {
            handleJoinReply(status, response);
            return;
        }
        if (m_state == State::Leaving && ref == m_leaveRef) {
            m_joinTimer.stop();
            qCInfo(lcClientChannel) << "left" << m_topic << "join_ref" << m_joinRef;
            failPushes(m_sent, Push::Error::ChannelLeft,
                       tr("channel %1 was left before the reply arrived").arg(m_topic));
            m_joinRef.clear();
            setState(State::Closed);
            emit left();
            return;
        }
        for (const QPointer<Push> &push : std::as_const(m_sent)) {
            if (push && push->ref() == ref) {
                push->finishReplied(status, response);
                return;
            }
        }
        qCDebug(lcClientChannel) << "ignored a reply to unknown ref" << ref << "on" << m_topic;
        return;
    }
    if (message.event == Event::close || message.event == Event::error) {
        if (m_state == State::Closed)
            return;
        const bool closed = message.event == Event::close;
        qCWarning(lcClientChannel)
            << "server sent" << message.event << "for" << m_topic << "join_ref" << m_joinRef;
        m_joinTimer.stop();
        failPushes(m_sent, Push::Error::ChannelLeft,
                   tr("channel %1 was closed by the server").arg(m_topic));
        if (m_state == State::Leaving || closed) {
            const bool wasLeaving = m_state == State::Leaving;
            m_joinRequested = false;
            failPushes(m_queued, Push::Error::ChannelLeft,
                       tr("channel %1 was closed by the server").arg(m_topic));
            m_joinRef.clear();
            setState(State::Closed);
            if (wasLeaving)
                emit left();
            else
                setError(Error::ClosedByServer, tr("the server closed channel %1").arg(m_topic));
            return;
        }
        // phx_error: the channel crashed on the server; rejoin as Phoenix clients do.
        setState(State::Errored);
        setError(Error::ClosedByServer,
                 tr("channel %1 failed on the server; rejoining").arg(m_topic));
        ++m_joinAttempt;
        m_rejoinTimer.start(m_socket->reconnectDelay(m_joinAttempt), this);
        return;
    }
    if (!message.payload.isObject()) {
        qCWarning(lcClientChannel) << "ignored" << message.event << "on" << m_topic
                                   << "with a payload that is not an object";
        return;
    }
    emit messageReceived(message.event, message.payload.toObject());
}

void Channel::handleJoinReply(const QString &status, const QJsonValue &response)
{
    m_joinTimer.stop();
    if (status == okStatus) {
        qCInfo(lcClientChannel) << "joined" << m_topic << "join_ref" << m_joinRef;
        m_joinAttempt = 0;
        m_joinResponse = response;
        setState(State::Joined);
        emit joined(response);
        flushQueue();
        return;
    }
    const QString reason = describeResponse(response);
    qCWarning(lcClientChannel).noquote()
        << "join of" << m_topic << "rejected, join_ref" << m_joinRef << ":" << reason;
    setState(State::Errored);
    failPushes(m_queued, Push::Error::NotJoined,
               tr("channel %1 was not joined: %2").arg(m_topic, reason));
    setError(Error::JoinRejected, tr("join of %1 rejected: %2").arg(m_topic, reason));
    emit joinRejected(response);
}

void Channel::timerEvent(QTimerEvent *event)
{
    if (event->timerId() == m_joinTimer.timerId()) {
        m_joinTimer.stop();
        if (m_state == State::Leaving) {
            qCWarning(lcClientChannel) << "no reply to the leave of" << m_topic << "within"
                                       << m_joinTimeout << "ms; closing it anyway";
            failPushes(m_sent, Push::Error::ChannelLeft,
                       tr("channel %1 was left before the reply arrived").arg(m_topic));
            m_joinRef.clear();
            setState(State::Closed);
            emit left();
            return;
        }
        ++m_joinAttempt;
        const int delay = m_socket->reconnectDelay(m_joinAttempt);
        qCWarning(lcClientChannel)
            << "join of" << m_topic << "timed out after" << m_joinTimeout << "ms, join_ref"
            << m_joinRef << "; retrying in" << delay << "ms";
        setState(State::Errored);
        setError(Error::JoinTimedOut,
                 tr("no reply to the join of %1 within %2 ms").arg(m_topic).arg(m_joinTimeout));
        m_rejoinTimer.start(delay, this);
    } else if (event->timerId() == m_rejoinTimer.timerId()) {
        m_rejoinTimer.stop();
        if (m_joinRequested && m_socket->isConnected())
            sendJoin();
    } else {
        QObject::timerEvent(event);
    }
}

void Channel::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    emit stateChanged(state);
}

void Channel::setError(Error error, const QString &errorString)
{
    m_error = error;
    const bool stringChanged = m_errorString != errorString;
    m_errorString = errorString;
    if (stringChanged)
        emit errorStringChanged();
    if (error != Error::NoError)
        emit errorOccurred(error);
}

} // namespace Omw::Phoenix
