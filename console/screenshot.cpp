#include "screenshot.h"

#include "consolecontroller.h"
#include "ridemodel.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QQuickItem>
#include <QQuickWindow>

#include <cstdio>

namespace Omw {

namespace {

QQuickItem *findItem(QQuickItem *root, const QString &objectName)
{
    if (!root) {
        return nullptr;
    }
    if (root->objectName() == objectName) {
        return root;
    }
    const QList<QQuickItem *> children = root->childItems();
    for (QQuickItem *child : children) {
        if (QQuickItem *found = findItem(child, objectName)) {
            return found;
        }
    }
    return nullptr;
}

} // namespace

ScreenshotTaker::ScreenshotTaker(QQuickWindow *window, RideModel *model, const QString &path,
                                 int timeoutSeconds, QObject *parent)
    : QObject(parent), m_window(window), m_model(model), m_path(path)
{
    m_poll.setInterval(100);
    connect(&m_poll, &QTimer::timeout, this, &ScreenshotTaker::poll);
    m_timeout.setSingleShot(true);
    m_timeout.setInterval(timeoutSeconds * 1000);
    connect(&m_timeout, &QTimer::timeout, this, [this] {
        m_poll.stop();
        qCWarning(lcConsole) << "screenshot timed out: no ride with a fix was drawn within"
                             << m_timeout.interval() / 1000 << "s";
        Q_EMIT finished(1);
    });
}

void ScreenshotTaker::start()
{
    m_poll.start();
    m_timeout.start();
}

bool ScreenshotTaker::isReady() const
{
    if (!m_window || !m_model) {
        return false;
    }
    QQuickItem *map = findItem(m_window->contentItem(), QStringLiteral("map"));
    if (!map || !map->property("tilesComplete").toBool()) {
        return false;
    }
    bool anyMarker = false;
    for (int row = 0; row < m_model->rowCount(); ++row) {
        const Ride &ride = m_model->rideAt(row);
        if (!ride.hasFix()) {
            continue;
        }
        QQuickItem *marker = findItem(map, QStringLiteral("marker:") + ride.slug);
        if (!marker || !marker->isVisible()) {
            return false;
        }
        anyMarker = true;
    }
    return anyMarker;
}

void ScreenshotTaker::poll()
{
    // Ready on two polls in a row: the map has settled after centring on the ride.
    m_readyPolls = isReady() ? m_readyPolls + 1 : 0;
    if (m_readyPolls < 2 || m_captureRequested) {
        return;
    }
    m_captureRequested = true;
    m_poll.stop();
    // Grab after a frame that was rendered with everything in place.
    connect(m_window, &QQuickWindow::frameSwapped, this, &ScreenshotTaker::capture,
            Qt::SingleShotConnection);
    m_window->update();
}

void ScreenshotTaker::capture()
{
    m_timeout.stop();
    const QImage image = m_window->grabWindow();
    if (image.isNull() || !image.save(m_path, "PNG")) {
        qCWarning(lcConsole) << "cannot save the screenshot to" << m_path;
        Q_EMIT finished(1);
        return;
    }
    qCInfo(lcConsole) << "screenshot saved to" << m_path;
    const QByteArray json = describe();
    std::fwrite(json.constData(), 1, size_t(json.size()), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    Q_EMIT finished(0);
}

QByteArray ScreenshotTaker::describe() const
{
    QQuickItem *map = findItem(m_window->contentItem(), QStringLiteral("map"));
    const QPointF mapOrigin = map->mapToScene(QPointF(0, 0));
    const QGeoCoordinate center = map->property("center").value<QGeoCoordinate>();
    QJsonArray rides;
    for (int row = 0; row < m_model->rowCount(); ++row) {
        const Ride &ride = m_model->rideAt(row);
        QJsonObject entry {
            {QStringLiteral("slug"), ride.slug},
            {QStringLiteral("state"), RideModel::stateName(m_model->stateAt(row))},
            {QStringLiteral("trail"), int(ride.trail.size())},
        };
        if (ride.hasFix()) {
            entry.insert(QStringLiteral("latitude"), ride.last.latitude);
            entry.insert(QStringLiteral("longitude"), ride.last.longitude);
            entry.insert(QStringLiteral("heading"),
                         ride.last.hasHeading() ? QJsonValue(ride.last.heading) : QJsonValue());
            entry.insert(QStringLiteral("speed"),
                         ride.last.hasSpeed() ? QJsonValue(ride.last.speed) : QJsonValue());
            if (QQuickItem *marker = findItem(map, QStringLiteral("marker:") + ride.slug)) {
                const QPointF centre
                    = marker->mapToScene(QPointF(marker->width() / 2, marker->height() / 2));
                entry.insert(QStringLiteral("markerX"), centre.x());
                entry.insert(QStringLiteral("markerY"), centre.y());
                entry.insert(QStringLiteral("markerRotation"),
                             marker->property("heading").toDouble());
            }
        }
        rides.append(entry);
    }
    const QJsonObject root {
        {QStringLiteral("file"), m_path},
        {QStringLiteral("window"),
         QJsonObject {{QStringLiteral("width"), m_window->width()},
                      {QStringLiteral("height"), m_window->height()},
                      {QStringLiteral("devicePixelRatio"), m_window->devicePixelRatio()}}},
        {QStringLiteral("map"),
         QJsonObject {{QStringLiteral("x"), mapOrigin.x()},
                      {QStringLiteral("y"), mapOrigin.y()},
                      {QStringLiteral("width"), map->width()},
                      {QStringLiteral("height"), map->height()},
                      {QStringLiteral("latitude"), center.latitude()},
                      {QStringLiteral("longitude"), center.longitude()},
                      {QStringLiteral("zoom"), map->property("zoom").toDouble()}}},
        {QStringLiteral("rides"), rides},
    };
    return QJsonDocument(root).toJson(QJsonDocument::Compact);
}

} // namespace Omw
