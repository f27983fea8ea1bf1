#pragma once

#include "tilesource.h"

#include <QSqlDatabase>

namespace Omw {

// Tiles from an MBTiles file (SQLite: table `tiles` with zoom_level, tile_column, tile_row in
// TMS order, i.e. row 0 at the south, and tile_data; table `metadata` with name/value pairs).
// The file is opened read-only. Tiles are read on the calling thread and delivered from the
// event loop, so requestTile() never emits synchronously.
class MbTilesSource : public TileSource
{
    Q_OBJECT
public:
    explicit MbTilesSource(const QString &path, QObject *parent = nullptr);
    ~MbTilesSource() override;

    Kind kind() const override { return MbTiles; }
    QString path() const { return m_path; }
    bool isOpen() const;

    void requestTile(const MapMath::TileId &tile) override;

private:
    void open();
    void readMetadata();
    void load(const MapMath::TileId &tile);

    QString m_path;
    QString m_connectionName;
};

} // namespace Omw
