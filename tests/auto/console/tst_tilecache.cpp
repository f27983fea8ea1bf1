#include "tilecache.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace Omw;

class tst_TileCache : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
    void writeAndRead();
    void missingTile();
    void sizeLimitEvictsLeastRecentlyUsed();
    void indexSurvivesRestart();
    void restartOverLimitEvicts();
};

void tst_TileCache::writeAndRead()
{
    QTemporaryDir dir;
    TileCache cache(dir.path(), 1024);
    QVERIFY(cache.write({4, 3, 2}, QByteArray("abc")));
    QDateTime storedAt;
    const auto data = cache.read({4, 3, 2}, &storedAt);
    QVERIFY(data);
    QCOMPARE(*data, QByteArray("abc"));
    QVERIFY(storedAt.isValid());
    QVERIFY(QFile::exists(dir.filePath(QStringLiteral("4/3/2.tile"))));
    QCOMPARE(cache.size(), 3);
    QCOMPARE(cache.count(), 1);
    // Overwriting replaces the size, it does not add to it.
    QVERIFY(cache.write({4, 3, 2}, QByteArray("abcdef")));
    QCOMPARE(cache.size(), 6);
    QCOMPARE(cache.count(), 1);
}

void tst_TileCache::missingTile()
{
    QTemporaryDir dir;
    TileCache cache(dir.path(), 1024);
    QVERIFY(!cache.read({1, 0, 0}));
}

void tst_TileCache::sizeLimitEvictsLeastRecentlyUsed()
{
    QTemporaryDir dir;
    TileCache cache(dir.path(), 1000);
    const QByteArray hundred(100, 'x');
    for (int x = 0; x < 10; ++x) {
        QVERIFY(cache.write({5, x, 0}, hundred));
    }
    QCOMPARE(cache.size(), 1000); // exactly at the limit: nothing evicted
    QCOMPARE(cache.count(), 10);
    QVERIFY(cache.read({5, 0, 0})); // tile 0 is now the most recently used
    QVERIFY(cache.write({5, 10, 0}, hundred)); // over the limit: evict down to 900 bytes
    QCOMPARE(cache.size(), 900);
    QCOMPARE(cache.count(), 9);
    QVERIFY(cache.read({5, 0, 0}));
    QVERIFY(cache.read({5, 10, 0}));
    QVERIFY(!cache.read({5, 1, 0}));
    QVERIFY(!cache.read({5, 2, 0}));
    QVERIFY(cache.read({5, 3, 0}));
    QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("5/1/0.tile"))));
}

void tst_TileCache::indexSurvivesRestart()
{
    QTemporaryDir dir;
    {
        TileCache cache(dir.path(), 10000);
        QVERIFY(cache.write({2, 1, 1}, QByteArray(300, 'a')));
        QVERIFY(cache.write({2, 1, 2}, QByteArray(200, 'b')));
    }
    TileCache cache(dir.path(), 10000);
    QCOMPARE(cache.count(), 2);
    QCOMPARE(cache.size(), 500);
    QCOMPARE(*cache.read({2, 1, 2}), QByteArray(200, 'b'));
}

void tst_TileCache::restartOverLimitEvicts()
{
    QTemporaryDir dir;
    {
        TileCache cache(dir.path(), 10000);
        for (int y = 0; y < 10; ++y) {
            QVERIFY(cache.write({6, 0, y}, QByteArray(100, 'c')));
        }
    }
    // The limit was lowered between runs: the cache shrinks on start.
    TileCache cache(dir.path(), 500);
    QVERIFY2(cache.size() <= 450, qPrintable(QString::number(cache.size())));
    QCOMPARE(cache.size(), qint64(cache.count()) * 100);
}

QTEST_GUILESS_MAIN(tst_TileCache)
#include "tst_tilecache.moc"
