#include "ridetracker.h"

#include "phoenixchannel.h"
#include "phoenixsocket.h"
#include "ridemodel.h"

#include <QJsonArray>
#include <QRegularExpression>
#include <QUrlQuery>

Q_LOGGING_CATEGORY(lcTracker, "omw.console.tracker")

namespace Omw {

namespace {

const QString followPrefix = QStringLiteral("following:");
const QString dispatchTopic = QStringLiteral("dispatch");

// Words of letters or digits joined by `-`, as the original web client accepts (`\w+-\w+`).
// A ride name as the server accepts it: 1 to 64 letters, digits, '_' or '-', not starting with
// '-'. Names are case-sensitive.
const QRegularExpression &rideNamePattern()
{
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}\\z"));
    return pattern;
}

// In a link, only a name of two or more words joined by '-' is taken, so that path segments
// such as "follow" are not mistaken for one.
const QRegularExpression &mnemonicPattern()
{
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)+\\z"));
    return pattern;
}

} // namespace

RideTracker::RideTracker(RideModel *model, QObject *parent) : QObject(parent), m_model(model) { }

RideTracker::~RideTracker()
{
    stop();
}

void RideTracker::setServerUrl(const QUrl &url)
{
    if (m_serverUrl == url) {
        return;
    }
    m_serverUrl = url;
    Q_EMIT serverUrlChanged();
    if (m_started) {
        // A new server: rebuild the socket and rejoin every channel on it.
        stop();
        start();
    }
}

QString RideTracker::connectionText() const
{
    switch (m_connectionState) {
    case Disconnected:
        return QStringLiteral("Disconnected");
    case Connecting:
        return QStringLiteral("Connecting");
    case Connected:
        return QStringLiteral("Connected");
    case Reconnecting:
        return QStringLiteral("Reconnecting");
    }
    return QString();
}

int RideTracker::reconnectAttempt() const
{
    return m_socket ? m_socket->reconnectAttempt() : 0;
}

QStringList RideTracker::followedRides() const
{
    QStringList slugs = m_followed.keys();
    slugs.sort();
    return slugs;
}

QString RideTracker::parseMnemonic(const QString &text)
{
    const QString trimmed = text.trimmed();
    if (rideNamePattern().match(trimmed).hasMatch()) {
        return trimmed;
    }
    const QUrl url(trimmed);
    if (!url.isValid() || url.scheme().isEmpty()) {
        return QString();
    }
    // Candidates from the most specific part of a link to the least.
    QStringList candidates;
    candidates.append(url.fragment());
    for (const auto &item : QUrlQuery(url).queryItems(QUrl::FullyDecoded)) {
        candidates.append(item.second);
    }
    QStringList segments = url.path(QUrl::FullyDecoded).split(QLatin1Char('/'), Qt::SkipEmptyParts);
    std::reverse(segments.begin(), segments.end());
    candidates.append(segments);
    for (const QString &candidate : std::as_const(candidates)) {
        if (mnemonicPattern().match(candidate).hasMatch() && candidate.size() <= 64) {
            return candidate;
        }
    }
    return QString();
}

QString RideTracker::follow(const QString &mnemonicOrLink)
{
    const QString slug = parseMnemonic(mnemonicOrLink);
    if (slug.isEmpty()) {
        setError(InvalidMnemonic,
                 QStringLiteral("\"%1\" is not a ride name or follow link; expected 1 to 64 "
                                "letters, digits, '_' or '-', such as describe-canoe")
                     .arg(mnemonicOrLink.trimmed()));
        return QString();
    }
    m_forgotten.remove(slug);
    if (!m_followed.contains(slug)) {
        qCInfo(lcTracker) << "following ride" << slug;
        m_followed.insert(slug, nullptr);
        if (m_model) {
            m_model->addRide(slug);
        }
        if (m_socket) {
            joinFollowChannel(slug);
        }
        Q_EMIT followedRidesChanged();
    }
    return slug;
}

void RideTracker::unfollow(const QString &slug)
{
    const auto it = m_followed.find(slug);
    if (it == m_followed.end()) {
        return;
    }
    qCInfo(lcTracker) << "no longer following ride" << slug;
    if (Phoenix::Channel *channel = it.value()) {
        channel->leave();
        channel->deleteLater();
    }
    m_followed.erase(it);
    if (m_model && m_dispatchState != DispatchJoined) {
        m_model->removeRide(slug);
    }
    Q_EMIT followedRidesChanged();
}

void RideTracker::forget(const QString &slug)
{
    m_forgotten.insert(slug);
    unfollow(slug);
    if (m_model) {
        m_model->removeRide(slug);
    }
}

void RideTracker::setDispatchToken(const QString &token)
{
    if (m_dispatchToken == token) {
        return;
    }
    m_dispatchToken = token;
    if (m_dispatch) {
        m_dispatch->leave();
        m_dispatch->deleteLater();
        m_dispatch = nullptr;
    }
    if (token.isEmpty()) {
        setDispatchState(DispatchOff);
    } else if (m_socket) {
        joinDispatchChannel();
    }
}

void RideTracker::start()
{
    if (m_started) {
        return;
    }
    m_started = true;
    createSocket();
}

void RideTracker::stop()
{
    if (!m_started) {
        return;
    }
    m_started = false;
    if (m_socket) {
        qCInfo(lcTracker) << "disconnecting from" << m_serverUrl.toDisplayString();
        m_socket->disconnectFromServer();
        delete m_socket; // deletes its channels too
        m_socket = nullptr;
    }
    m_dispatch = nullptr;
    for (auto it = m_followed.begin(); it != m_followed.end(); ++it) {
        it.value() = nullptr;
    }
    if (!m_dispatchToken.isEmpty()) {
        setDispatchState(DispatchJoining);
    }
    setConnectionState(Disconnected);
}

void RideTracker::createSocket()
{
    const QString scheme = m_serverUrl.scheme();
    if (!m_serverUrl.isValid()
        || (scheme != QLatin1String("ws") && scheme != QLatin1String("wss"))) {
        setError(InvalidServerUrl,
                 QStringLiteral("invalid server URL \"%1\": expected ws:// or wss://, such as "
                                "ws://127.0.0.1:4000/socket")
                     .arg(m_serverUrl.toDisplayString()));
        return;
    }
    qCInfo(lcTracker) << "connecting to" << m_serverUrl.toDisplayString();
    m_socket = new Phoenix::Socket(m_serverUrl, this);
    connect(m_socket, &Phoenix::Socket::stateChanged, this, [this](Phoenix::Socket::State state) {
        switch (state) {
        case Phoenix::Socket::State::Disconnected:
            setConnectionState(Disconnected);
            break;
        case Phoenix::Socket::State::Connecting:
            setConnectionState(m_connectionState == Reconnecting ? Reconnecting : Connecting);
            break;
        case Phoenix::Socket::State::Connected:
            setConnectionState(Connected);
            break;
        case Phoenix::Socket::State::Reconnecting:
            setConnectionState(Reconnecting);
            break;
        }
    });
    connect(m_socket, &Phoenix::Socket::errorOccurred, this, [this] {
        qCWarning(lcTracker).noquote() << "connection to" << m_serverUrl.toDisplayString()
                                       << "failed:" << m_socket->errorString();
        setError(ConnectionFailed, m_socket->errorString());
    });
    connect(m_socket, &Phoenix::Socket::reconnectScheduled, this, [this](int attempt, int delay) {
        qCInfo(lcTracker) << "reconnect attempt" << attempt << "in" << delay << "ms";
        Q_EMIT connectionStateChanged();
    });
    for (auto it = m_followed.begin(); it != m_followed.end(); ++it) {
        joinFollowChannel(it.key());
    }
    if (!m_dispatchToken.isEmpty()) {
        joinDispatchChannel();
    }
    m_socket->connectToServer();
}

void RideTracker::joinFollowChannel(const QString &slug)
{
    Phoenix::Channel *channel = m_socket->channel(followPrefix + slug);
    m_followed[slug] = channel;
    connect(channel, &Phoenix::Channel::joined, this, [this, slug](const QJsonValue &response) {
        if (!m_model) {
            return;
        }
        QJsonObject snapshot = response.toObject();
        if (snapshot.contains(QStringLiteral("state"))) {
            snapshot.insert(QStringLiteral("slug"), slug);
            m_model->applySnapshot(snapshot);
        } else {
            // A server without snapshots (the original API) replies {}.
            m_model->addRide(slug);
        }
        qCDebug(lcTracker) << "joined" << followPrefix + slug;
        Q_EMIT snapshotApplied(followPrefix + slug);
    });
    connect(
        channel, &Phoenix::Channel::joinRejected, this, [this, slug](const QJsonValue &response) {
            const QString reason = response.toObject().value(QStringLiteral("reason")).toString();
            qCWarning(lcTracker) << "follow join of" << slug << "rejected:" << reason;
            setError(FollowRejected,
                     QStringLiteral("the server refused to follow %1: %2").arg(slug, reason));
        });
    connect(channel, &Phoenix::Channel::messageReceived, this,
            [this, slug](const QString &event, const QJsonObject &payload) {
                handleEvent(slug, event, payload);
            });
    channel->join();
}

void RideTracker::joinDispatchChannel()
{
    m_dispatch = m_socket->channel(dispatchTopic,
                                   QJsonObject {{QStringLiteral("token"), m_dispatchToken}});
    setDispatchState(DispatchJoining);
    connect(m_dispatch, &Phoenix::Channel::joined, this, [this](const QJsonValue &response) {
        const QJsonArray rides = response.toObject().value(QStringLiteral("rides")).toArray();
        qCInfo(lcTracker) << "dispatch channel joined with" << rides.size() << "rides";
        if (m_model) {
            for (const QJsonValue &ride : rides) {
                const QJsonObject snapshot = ride.toObject();
                if (!m_forgotten.contains(snapshot.value(QStringLiteral("slug")).toString())) {
                    m_model->applySnapshot(snapshot);
                }
            }
        }
        setDispatchState(DispatchJoined);
        Q_EMIT snapshotApplied(dispatchTopic);
    });
    connect(m_dispatch, &Phoenix::Channel::joinRejected, this, [this](const QJsonValue &response) {
        const QString reason = response.toObject().value(QStringLiteral("reason")).toString();
        qCWarning(lcTracker) << "dispatch join rejected:" << reason;
        setDispatchState(DispatchRejected);
        setError(DispatchTokenRejected,
                 QStringLiteral("the server refused the dispatcher token (%1); check the token "
                                "file")
                     .arg(reason));
    });
    connect(m_dispatch, &Phoenix::Channel::messageReceived, this,
            [this](const QString &event, const QJsonObject &payload) {
                const QString slug = payload.value(QStringLiteral("slug")).toString();
                if (slug.isEmpty()) {
                    qCWarning(lcTracker) << "ignoring dispatch event" << event << "without a slug";
                    return;
                }
                if (m_forgotten.contains(slug) && !m_followed.contains(slug)) {
                    return;
                }
                if (event == QLatin1String("SESSION_STARTED")) {
                    if (m_model) {
                        m_model->addRide(slug);
                    }
                    return;
                }
                handleEvent(slug, event, payload);
            });
    m_dispatch->join();
}

void RideTracker::handleEvent(const QString &slug, const QString &event, const QJsonObject &payload)
{
    if (!m_model) {
        return;
    }
    if (event == QLatin1String("NEW_COORDS")) {
        m_model->applyCoordinates(slug, payload);
    } else if (event == QLatin1String("RIDER_OFFLINE")) {
        qCInfo(lcTracker) << "ride" << slug << "offline";
        m_model->applyOffline(slug, qint64(payload.value(QStringLiteral("since")).toDouble()));
    } else if (event == QLatin1String("RIDER_ONLINE")) {
        qCInfo(lcTracker) << "ride" << slug << "online again";
        m_model->applyOnline(slug);
    } else if (event == QLatin1String("TERMINATED")) {
        qCInfo(lcTracker) << "ride" << slug << "ended";
        m_model->applyTerminated(slug);
    } else {
        qCDebug(lcTracker) << "ignoring event" << event << "for" << slug;
    }
}

void RideTracker::setConnectionState(ConnectionState state)
{
    if (m_connectionState != state) {
        m_connectionState = state;
        qCDebug(lcTracker) << "connection" << connectionText();
        Q_EMIT connectionStateChanged();
    }
}

void RideTracker::setDispatchState(DispatchState state)
{
    if (m_dispatchState != state) {
        m_dispatchState = state;
        Q_EMIT dispatchStateChanged();
    }
}

void RideTracker::setError(Error error, const QString &errorString)
{
    m_error = error;
    m_errorString = errorString;
    Q_EMIT errorOccurred(error);
}

} // namespace Omw
