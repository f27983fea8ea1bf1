#include "tilecache.h"

#include "tilesource.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

#include <algorithm>

namespace Omw {

TileCache::TileCache(const QString &directory, qint64 sizeLimit)
    : m_directory(directory), m_sizeLimit(sizeLimit)
{
    scan();
    evict();
}

QString TileCache::pathFor(const MapMath::TileId &tile) const
{
    return QStringLiteral("%1/%2/%3.tile").arg(tile.z).arg(tile.x).arg(tile.y);
}

void TileCache::scan()
{
    struct Found
    {
        QString path;
        qint64 size;
        QDateTime modified;
    };
    QVector<Found> found;
    QDirIterator it(m_directory, {QStringLiteral("*.tile")}, QDir::Files,
                    QDirIterator::Subdirectories);
    const QDir root(m_directory);
    while (it.hasNext()) {
        it.next();
        const QFileInfo info = it.fileInfo();
        found.append({root.relativeFilePath(info.filePath()), info.size(), info.lastModified()});
    }
    // Older files count as less recently used.
    std::sort(found.begin(), found.end(),
              [](const Found &a, const Found &b) { return a.modified < b.modified; });
    for (const Found &file : std::as_const(found)) {
        m_entries.insert(file.path, {file.size, ++m_useCounter});
        m_size += file.size;
    }
    qCDebug(lcTiles) << "tile cache" << m_directory << "holds" << m_entries.size() << "tiles,"
                     << m_size << "bytes";
}

std::optional<QByteArray> TileCache::read(const MapMath::TileId &tile, QDateTime *storedAt)
{
    const QString relative = pathFor(tile);
    auto entry = m_entries.find(relative);
    if (entry == m_entries.end()) {
        return std::nullopt;
    }
    QFile file(m_directory + QLatin1Char('/') + relative);
    if (!file.open(QIODevice::ReadOnly)) {
        m_size -= entry->size;
        m_entries.erase(entry);
        return std::nullopt;
    }
    entry->lastUsed = ++m_useCounter;
    if (storedAt) {
        *storedAt = file.fileTime(QFileDevice::FileModificationTime);
    }
    return file.readAll();
}

bool TileCache::write(const MapMath::TileId &tile, const QByteArray &data)
{
    const QString relative = pathFor(tile);
    const QString path = m_directory + QLatin1Char('/') + relative;
    if (!QDir().mkpath(QFileInfo(path).path())) {
        qCWarning(lcTiles) << "cannot create tile cache folder" << QFileInfo(path).path();
        return false;
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(data) != data.size() || !file.commit()) {
        qCWarning(lcTiles) << "cannot write tile cache file" << path << file.errorString();
        return false;
    }
    Entry &entry = m_entries[relative];
    m_size += data.size() - entry.size;
    entry.size = data.size();
    entry.lastUsed = ++m_useCounter;
    evict();
    return true;
}

void TileCache::evict()
{
    if (m_size <= m_sizeLimit) {
        return;
    }
    // Evict down to 90 % of the limit, so that a full cache does not evict on every write.
    const qint64 target = m_sizeLimit / 10 * 9;
    QVector<QPair<qint64, QString>> byUse;
    byUse.reserve(m_entries.size());
    for (auto it = m_entries.cbegin(); it != m_entries.cend(); ++it) {
        byUse.append({it->lastUsed, it.key()});
    }
    std::sort(byUse.begin(), byUse.end());
    int removed = 0;
    for (const auto &[lastUsed, relative] : std::as_const(byUse)) {
        Q_UNUSED(lastUsed)
        if (m_size <= target) {
            break;
        }
        QFile::remove(m_directory + QLatin1Char('/') + relative);
        m_size -= m_entries.take(relative).size;
        ++removed;
    }
    qCDebug(lcTiles) << "tile cache" << m_directory << "evicted" << removed << "tiles, now"
                     << m_size << "bytes";
}

} // namespace Omw
