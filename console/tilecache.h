#pragma once

#include "mapmath.h"

#include <QByteArray>
#include <QDateTime>
#include <QHash>
#include <QString>

#include <optional>

namespace Omw {

// Disk cache of raw tile files for one tile source, one file per tile under
// `directory/z/x/y.tile`. The total size is kept at or below `sizeLimit` by deleting the least
// recently used files; the index is rebuilt from the folder on construction, so the cache
// survives restarts.
class TileCache
{
public:
    TileCache(const QString &directory, qint64 sizeLimit);

    QString directory() const { return m_directory; }
    qint64 sizeLimit() const { return m_sizeLimit; }
    qint64 size() const { return m_size; }
    int count() const { return int(m_entries.size()); }

    // Returns the stored tile and, in `storedAt`, when it was written.
    std::optional<QByteArray> read(const MapMath::TileId &tile, QDateTime *storedAt = nullptr);
    // Stores a tile and evicts old ones if the cache grew over its limit. Returns false when the
    // file cannot be written (the cache then simply misses).
    bool write(const MapMath::TileId &tile, const QByteArray &data);

private:
    struct Entry
    {
        qint64 size = 0;
        qint64 lastUsed = 0; // a counter, not a time
    };

    QString pathFor(const MapMath::TileId &tile) const;
    void scan();
    void evict();

    QString m_directory;
    qint64 m_sizeLimit = 0;
    qint64 m_size = 0;
    qint64 m_useCounter = 0;
    QHash<QString, Entry> m_entries; // keyed by path relative to m_directory
};

} // namespace Omw
