#include "consolecontroller.h"

#include "consolesettings.h"
#include "ridemodel.h"
#include "ridetracker.h"
#include "tilesource.h"

#include <QCoreApplication>
#include <QFile>
#include <QStandardPaths>
#include <QUrl>

Q_LOGGING_CATEGORY(lcConsole, "omw.console")

namespace Omw {

ConsoleController::ConsoleController(const ConsoleOptions &options, QObject *parent)
    : QObject(parent),
      m_options(options),
      m_settings(new ConsoleSettings(this)),
      m_rides(new RideModel(this)),
      m_tracker(new RideTracker(m_rides, this))
{
    m_rides->setSpeedUnit(m_settings->speedUnit());
    m_rides->setStaleAfter(m_settings->staleAfter());
    connect(m_settings, &ConsoleSettings::speedUnitChanged, m_rides,
            [this] { m_rides->setSpeedUnit(m_settings->speedUnit()); });
    connect(m_settings, &ConsoleSettings::staleAfterChanged, m_rides,
            [this] { m_rides->setStaleAfter(m_settings->staleAfter()); });
    connect(m_tracker, &RideTracker::errorOccurred, this, [this](RideTracker::Error error) {
        // Connection failures show in the connection indicator; the rest gets a message.
        if (error != RideTracker::ConnectionFailed) {
            setMessage(m_tracker->errorString());
        }
    });
}

ConsoleController::~ConsoleController()
{
    m_tracker->stop();
}

QString ConsoleController::version() const
{
    return QCoreApplication::applicationVersion();
}

bool ConsoleController::initialize(QString *errorString)
{
    m_serverUrl = m_options.serverUrl.value_or(m_settings->serverUrl());
    const QString tiles = m_options.tiles.value_or(m_settings->tiles());
    if (!createTileSource(tiles, errorString)) {
        return false;
    }
    const QString tokenFile = m_options.dispatchTokenFile.value_or(m_settings->dispatchTokenFile());
    if (!tokenFile.isEmpty()) {
        QFile file(tokenFile);
        if (!file.open(QIODevice::ReadOnly)) {
            *errorString = QStringLiteral("cannot read the dispatcher token file %1: %2")
                               .arg(tokenFile, file.errorString());
            return false;
        }
        const QString token = QString::fromUtf8(file.readAll()).trimmed();
        if (token.isEmpty()) {
            *errorString = QStringLiteral("the dispatcher token file %1 is empty").arg(tokenFile);
            return false;
        }
        m_tracker->setDispatchToken(token);
    }
    for (const QString &slug : m_settings->followedRides()) {
        m_tracker->follow(slug);
    }
    for (const QString &text : std::as_const(m_options.follow)) {
        if (m_tracker->follow(text).isEmpty()) {
            *errorString = QStringLiteral("invalid --follow: %1").arg(m_tracker->errorString());
            return false;
        }
    }
    m_tracker->setServerUrl(QUrl(m_serverUrl));
    m_tracker->start();
    return true;
}

bool ConsoleController::createTileSource(const QString &spec, QString *errorString)
{
    TileSourceOptions options;
    options.spec = spec;
    options.cacheDirectory = QStandardPaths::writableLocation(QStandardPaths::CacheLocation)
        + QStringLiteral("/tiles");
    options.cacheSizeLimit = qint64(m_settings->tileCacheMiB()) * 1024 * 1024;
    TileSource *source = Omw::createTileSource(options, errorString, this);
    if (!source) {
        return false;
    }
    // An MBTiles file that cannot be opened fails at once, not tile by tile.
    if (source->error() == TileSource::OpenError) {
        *errorString = source->errorString();
        delete source;
        return false;
    }
    if (m_tileSource) {
        m_tileSource->deleteLater();
    }
    m_tileSource = source;
    m_tiles = spec;
    Q_EMIT tileSourceChanged();
    return true;
}

QString ConsoleController::follow(const QString &mnemonicOrLink)
{
    const QString slug = m_tracker->follow(mnemonicOrLink);
    if (!slug.isEmpty()) {
        saveFollowedRides();
        m_rides->setSelectedSlug(slug);
    }
    return slug;
}

void ConsoleController::forget(const QString &slug)
{
    m_tracker->forget(slug);
    saveFollowedRides();
}

bool ConsoleController::useServer(const QString &url)
{
    const QUrl parsed(url.trimmed());
    if (!parsed.isValid()
        || (parsed.scheme() != QLatin1String("ws") && parsed.scheme() != QLatin1String("wss"))
        || parsed.host().isEmpty()) {
        setMessage(QStringLiteral("\"%1\" is not a server URL; expected ws:// or wss://, such as "
                                  "ws://127.0.0.1:4000/socket")
                       .arg(url.trimmed()));
        return false;
    }
    m_settings->setServerUrl(parsed.toString());
    if (m_serverUrl != parsed.toString()) {
        m_serverUrl = parsed.toString();
        Q_EMIT serverUrlChanged();
        m_tracker->setServerUrl(parsed);
    }
    return true;
}

bool ConsoleController::useTiles(const QString &spec)
{
    QString errorString;
    if (!createTileSource(spec.trimmed(), &errorString)) {
        setMessage(errorString);
        return false;
    }
    m_settings->setTiles(spec.trimmed());
    return true;
}

void ConsoleController::clearMessage()
{
    setMessage(QString());
}

void ConsoleController::saveFollowedRides()
{
    m_settings->setFollowedRides(m_tracker->followedRides());
}

void ConsoleController::setMessage(const QString &message)
{
    if (m_message != message) {
        m_message = message;
        if (!message.isEmpty()) {
            qCInfo(lcConsole).noquote() << message;
        }
        Q_EMIT messageChanged();
    }
}

} // namespace Omw
