#include "dictionary.h"

#include <QCryptographicHash>
#include <QFile>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

using Omw::Dictionary;

class tst_Dictionary : public QObject
{
    Q_OBJECT

private slots:
    void builtInListChecksum();
    void builtInListWords();
    void mnemonicWords_data();
    void mnemonicWords();
    void mnemonicCount();
};

void tst_Dictionary::builtInListChecksum()
{
    QFile file(QStringLiteral(":/omw/bip39-english.txt"));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray contents = file.readAll();
    QCOMPARE(contents.size(), 13116);
    QCOMPARE(QCryptographicHash::hash(contents, QCryptographicHash::Sha256).toHex(),
             QByteArray("2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda"));
}

void tst_Dictionary::builtInListWords()
{
    const Dictionary dictionary;
    QCOMPARE(dictionary.size(), 2048);
    QCOMPARE(dictionary.words().first(), QStringLiteral("abandon"));
    QCOMPARE(dictionary.words().last(), QStringLiteral("zoo"));
    const QSet<QString> distinct(dictionary.words().cbegin(), dictionary.words().cend());
    QCOMPARE(distinct.size(), 2048);
    const QRegularExpression lowercase(QStringLiteral("^[a-z]{3,8}$"));
    for (const QString &word : dictionary.words()) {
        QVERIFY2(lowercase.match(word).hasMatch(), qPrintable(word));
    }
}

void tst_Dictionary::mnemonicWords_data()
{
    QTest::addColumn<int>("count");
    QTest::newRow("2 words") << 2;
    QTest::newRow("3 words") << 3;
    QTest::newRow("6 words") << 6;
}

void tst_Dictionary::mnemonicWords()
{
    QFETCH(int, count);
    const Dictionary dictionary;
    const QSet<QString> words(dictionary.words().cbegin(), dictionary.words().cend());
    for (int i = 0; i < 200; ++i) {
        const QStringList parts = dictionary.randomMnemonic(count).split(QLatin1Char('-'));
        QCOMPARE(parts.size(), count);
        QCOMPARE(QSet<QString>(parts.cbegin(), parts.cend()).size(), count);
        for (const QString &part : parts) {
            QVERIFY2(words.contains(part), qPrintable(part));
        }
    }
}

void tst_Dictionary::mnemonicCount()
{
    const Dictionary dictionary;
    QCOMPARE(dictionary.mnemonicCount(2), 2048.0 * 2047.0);
    QCOMPARE(dictionary.mnemonicCount(3), 2048.0 * 2047.0 * 2046.0);
    const Dictionary small(
        QStringList {QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")});
    QCOMPARE(small.mnemonicCount(2), 6.0);
    QSet<QString> seen;
    for (int i = 0; i < 500 && seen.size() < 6; ++i) {
        seen.insert(small.randomMnemonic(2));
    }
    QCOMPARE(seen.size(), 6);
}

QTEST_GUILESS_MAIN(tst_Dictionary)
#include "tst_dictionary.moc"
