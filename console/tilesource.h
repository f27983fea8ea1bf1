#pragma once

#include "mapmath.h"

#include <QImage>
#include <QLoggingCategory>
#include <QObject>
#include <QtQml/qqmlregistration.h>

Q_DECLARE_LOGGING_CATEGORY(lcTiles)

namespace Omw {

// Where the map's tiles come from. A source delivers decoded tiles through tileReady() or
// reports tileFailed(); it never blocks the caller. Concrete sources are HttpTileSource,
// MbTilesSource and NoTileSource, created by createTileSource().
class TileSource : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("Tile sources are created from the settings and the command line")
    Q_PROPERTY(Kind kind READ kind CONSTANT)
    Q_PROPERTY(QString attribution READ attribution NOTIFY attributionChanged)
    Q_PROPERTY(int minimumZoom READ minimumZoom NOTIFY zoomRangeChanged)
    Q_PROPERTY(int maximumZoom READ maximumZoom NOTIFY zoomRangeChanged)
    Q_PROPERTY(Error error READ error NOTIFY errorOccurred)
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorOccurred)

public:
    enum Kind { None, Http, MbTiles };
    Q_ENUM(Kind)
    enum Error {
        NoError,
        OpenError, // the MBTiles file cannot be opened or is not an MBTiles database
        NetworkError, // a tile request failed below HTTP (refused, timed out, DNS)
        ServerError, // the tile server answered with an HTTP error status
        DecodeError, // the tile data is not an image Qt can read
    };
    Q_ENUM(Error)

    using QObject::QObject;

    virtual Kind kind() const = 0;
    virtual QString attribution() const { return m_attribution; }
    int minimumZoom() const { return m_minimumZoom; }
    int maximumZoom() const { return m_maximumZoom; }
    Error error() const { return m_error; }
    QString errorString() const { return m_errorString; }

    // Asks for one tile; `tile` must be valid (x within [0, 2^z)). The answer is asynchronous.
    virtual void requestTile(const MapMath::TileId &tile) = 0;
    // Drops queued requests that have not been sent yet, except those in `wanted`.
    virtual void retainOnly(const QVector<MapMath::TileId> &wanted) { Q_UNUSED(wanted) }

Q_SIGNALS:
    void tileReady(const Omw::MapMath::TileId &tile, const QImage &image);
    void tileFailed(const Omw::MapMath::TileId &tile, const QString &reason);
    void attributionChanged();
    void zoomRangeChanged();
    void errorOccurred(Omw::TileSource::Error error);

protected:
    void setAttribution(const QString &attribution);
    void setZoomRange(int minimum, int maximum);
    void setError(Error error, const QString &errorString);

private:
    QString m_attribution;
    int m_minimumZoom = MapMath::minZoom;
    int m_maximumZoom = MapMath::maxZoom;
    Error m_error = NoError;
    QString m_errorString;
};

// The source for `--tiles none`: no tiles at all, so the map draws its graticule.
class NoTileSource : public TileSource
{
    Q_OBJECT
public:
    using TileSource::TileSource;
    Kind kind() const override { return None; }
    void requestTile(const MapMath::TileId &tile) override;
};

// Settings shared by the tile sources that createTileSource() builds.
struct TileSourceOptions
{
    // `none`, a path ending in `.mbtiles`, or an HTTP(S) URL template with {z}, {x}, {y} and
    // optionally {s} (replaced by a, b or c).
    QString spec;
    QString cacheDirectory; // disk cache root for HTTP tiles; empty disables the disk cache
    qint64 cacheSizeLimit = 256 * 1024 * 1024; // bytes
};

// Returns a source for `options.spec`, or nullptr with `errorString` set when the spec is none
// of the accepted forms.
TileSource *createTileSource(const TileSourceOptions &options, QString *errorString,
                             QObject *parent = nullptr);

// The default: OpenStreetMap's standard tile layer, whose usage policy requires the
// attribution below on the map and a User-Agent that identifies the application.
inline const QString openStreetMapTemplate
    = QStringLiteral("https://tile.openstreetmap.org/{z}/{x}/{y}.png");
inline const QString openStreetMapAttribution = QStringLiteral("© OpenStreetMap contributors");

} // namespace Omw

Q_DECLARE_METATYPE(Omw::MapMath::TileId)
