#pragma once

#include <QHash>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QUrl>
#include <QtQml/qqmlregistration.h>

Q_DECLARE_LOGGING_CATEGORY(lcTracker)

namespace Omw {

namespace Phoenix {
class Channel;
class Socket;
} // namespace Phoenix

class RideModel;

// Keeps a RideModel up to date from an Omw server: one `following:<mnemonic>` channel per
// followed ride, and optionally the `dispatch` channel, which lists every live and offline
// ride. The Phoenix socket reconnects by itself; each rejoin brings a fresh snapshot, so
// nothing missed while disconnected stays missing.
class RideTracker : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("The console creates the ride tracker")
    Q_PROPERTY(QUrl serverUrl READ serverUrl WRITE setServerUrl NOTIFY serverUrlChanged)
    Q_PROPERTY(ConnectionState connectionState READ connectionState NOTIFY connectionStateChanged)
    Q_PROPERTY(QString connectionText READ connectionText NOTIFY connectionStateChanged)
    Q_PROPERTY(int reconnectAttempt READ reconnectAttempt NOTIFY connectionStateChanged)
    Q_PROPERTY(DispatchState dispatchState READ dispatchState NOTIFY dispatchStateChanged)
    Q_PROPERTY(QStringList followedRides READ followedRides NOTIFY followedRidesChanged)
    Q_PROPERTY(Error error READ error NOTIFY errorOccurred)
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorOccurred)

public:
    enum ConnectionState { Disconnected, Connecting, Connected, Reconnecting };
    Q_ENUM(ConnectionState)
    enum DispatchState {
        DispatchOff, // no dispatcher token
        DispatchJoining,
        DispatchJoined,
        DispatchRejected, // the server refused the token
    };
    Q_ENUM(DispatchState)
    enum Error {
        NoError,
        InvalidServerUrl,
        ConnectionFailed, // the server cannot be reached or dropped the connection
        InvalidMnemonic, // follow() got text without a mnemonic in it
        FollowRejected, // the server refused a follow join (rate limit, capacity)
        DispatchTokenRejected,
    };
    Q_ENUM(Error)

    explicit RideTracker(RideModel *model, QObject *parent = nullptr);
    ~RideTracker() override;

    QUrl serverUrl() const { return m_serverUrl; }
    void setServerUrl(const QUrl &url);
    ConnectionState connectionState() const { return m_connectionState; }
    QString connectionText() const;
    int reconnectAttempt() const;
    DispatchState dispatchState() const { return m_dispatchState; }
    // Followed mnemonics, sorted.
    QStringList followedRides() const;
    Error error() const { return m_error; }
    QString errorString() const { return m_errorString; }
    Phoenix::Socket *socket() const { return m_socket; }

    // The dispatcher token for the `dispatch` channel; an empty token leaves the channel.
    // The token is never logged.
    void setDispatchToken(const QString &token);

    // Returns the mnemonic in `text`: the text itself, or the last path segment, query value or
    // fragment of a follow link that looks like one (words joined by `-`). Lower-cased; empty
    // when there is none.
    static QString parseMnemonic(const QString &text);

    // Follows the ride named by a mnemonic or follow link. Returns the mnemonic, or an empty
    // string (with errorOccurred(InvalidMnemonic)) when the text holds none.
    Q_INVOKABLE QString follow(const QString &mnemonicOrLink);
    // Stops following; the ride leaves the model unless the dispatch channel still lists it.
    Q_INVOKABLE void unfollow(const QString &slug);
    // Removes a ride from the model and stops following it. The dispatch channel does not
    // bring it back until it is followed again.
    Q_INVOKABLE void forget(const QString &slug);

public Q_SLOTS:
    void start();
    void stop();

Q_SIGNALS:
    void serverUrlChanged();
    void connectionStateChanged();
    void dispatchStateChanged();
    void followedRidesChanged();
    void errorOccurred(Omw::RideTracker::Error error);
    // A join reply was applied to the model: a follower snapshot or the dispatch ride list.
    void snapshotApplied(const QString &topic);

private:
    void createSocket();
    void joinFollowChannel(const QString &slug);
    void joinDispatchChannel();
    void handleEvent(const QString &slug, const QString &event, const QJsonObject &payload);
    void setConnectionState(ConnectionState state);
    void setDispatchState(DispatchState state);
    void setError(Error error, const QString &errorString);

    QPointer<RideModel> m_model;
    QUrl m_serverUrl;
    Phoenix::Socket *m_socket = nullptr;
    QHash<QString, Phoenix::Channel *> m_followed; // keyed by mnemonic
    Phoenix::Channel *m_dispatch = nullptr;
    QString m_dispatchToken;
    QSet<QString> m_forgotten; // rides the dispatch channel no longer adds to the model
    bool m_started = false;
    ConnectionState m_connectionState = Disconnected;
    DispatchState m_dispatchState = DispatchOff;
    Error m_error = NoError;
    QString m_errorString;
};

} // namespace Omw
