#include "phoenixpush.h"

#include "phoenixchannel.h"

#include <QLoggingCategory>
#include <QTimerEvent>

namespace Omw::Phoenix {

Push::Push(Channel *channel, const QString &event, const QJsonObject &payload, int timeout)
    : QObject(channel), m_channel(channel), m_event(event), m_payload(payload), m_timeout(timeout)
{
}

Push::~Push()
{
    m_channel->forgetPush(this);
}

void Push::markSent(const QString &ref)
{
    m_ref = ref;
    setState(State::Sent);
    m_timeoutTimer.start(m_timeout, this);
}

void Push::failLater(Error error, const QString &errorString)
{
    // Callers connect to the push after Channel::push() returns, so the failure waits for the
    // event loop.
    QMetaObject::invokeMethod(
        this, [this, error, errorString] { finishFailed(error, errorString); },
        Qt::QueuedConnection);
}

void Push::finishReplied(const QString &status, const QJsonValue &response)
{
    if (isFinished())
        return;
    m_status = status;
    m_response = response;
    finish(State::Replied);
    emit replied(status, response);
    cleanUp();
}

void Push::finishTimedOut()
{
    if (isFinished())
        return;
    qCWarning(lcClientChannel) << "push" << m_event << "ref" << m_ref << "on" << m_channel->topic()
                               << "timed out after" << m_timeout << "ms";
    finish(State::TimedOut);
    emit timedOut();
    cleanUp();
}

void Push::finishFailed(Error error, const QString &errorString)
{
    if (isFinished())
        return;
    m_error = error;
    m_errorString = errorString;
    qCDebug(lcClientChannel).noquote() << "push" << m_event << "ref" << m_ref << "on"
                                       << m_channel->topic() << "failed:" << errorString;
    finish(State::Failed);
    emit failed(error);
    cleanUp();
}

void Push::finish(State state)
{
    m_timeoutTimer.stop();
    m_channel->forgetPush(this);
    setState(state);
}

void Push::cleanUp()
{
    if (m_autoDelete)
        deleteLater();
}

void Push::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    emit stateChanged(state);
}

void Push::timerEvent(QTimerEvent *event)
{
    if (event->timerId() == m_timeoutTimer.timerId())
        finishTimedOut();
    else
        QObject::timerEvent(event);
}

} // namespace Omw::Phoenix
