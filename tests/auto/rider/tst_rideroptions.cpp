#include "rideroptions.h"

#include <QTest>

using Omw::Rider::ParsedArguments;
using Omw::Rider::parseRiderArguments;

class TestRiderOptions : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void defaults();
    void allOptions();
    void invalid_data();
    void invalid();
    void help();
};

void TestRiderOptions::defaults()
{
    const ParsedArguments parsed
        = parseRiderArguments({QStringLiteral("omw-rider"), QStringLiteral("ride.gpx")});
    QVERIFY2(parsed.options, qPrintable(parsed.errorString));
    QCOMPARE(parsed.options->file, QStringLiteral("ride.gpx"));
    QCOMPARE(parsed.options->server, QUrl(QStringLiteral("ws://127.0.0.1:4000/socket")));
    QCOMPARE(parsed.options->speedup, 1.0);
    QCOMPARE(parsed.options->loop, false);
    QCOMPARE(parsed.options->originalTimes, false);
    QCOMPARE(parsed.options->maxPause, 60'000);
    QVERIFY(parsed.options->slug.isEmpty());
}

void TestRiderOptions::allOptions()
{
    const ParsedArguments parsed = parseRiderArguments(
        {QStringLiteral("omw-rider"), QStringLiteral("--server"),
         QStringLiteral("wss://omw.example/socket"), QStringLiteral("--speedup"),
         QStringLiteral("2.5"), QStringLiteral("--loop"), QStringLiteral("--original-times"),
         QStringLiteral("--max-pause"), QStringLiteral("1.5"), QStringLiteral("--slug"),
         QStringLiteral("describe-canoe"), QStringLiteral("--token"), QStringLiteral("secret"),
         QStringLiteral("ride.log")});
    QVERIFY2(parsed.options, qPrintable(parsed.errorString));
    QCOMPARE(parsed.options->server, QUrl(QStringLiteral("wss://omw.example/socket")));
    QCOMPARE(parsed.options->speedup, 2.5);
    QVERIFY(parsed.options->loop);
    QVERIFY(parsed.options->originalTimes);
    QCOMPARE(parsed.options->maxPause, 1500);
    QCOMPARE(parsed.options->slug, QStringLiteral("describe-canoe"));
    QCOMPARE(parsed.options->token, QStringLiteral("secret"));

    const ParsedArguments device = parseRiderArguments(
        {QStringLiteral("omw-rider"), QStringLiteral("--device"), QStringLiteral("/dev/ttyUSB0"),
         QStringLiteral("--baud"), QStringLiteral("4800")});
    QVERIFY2(device.options, qPrintable(device.errorString));
    QCOMPARE(device.options->device, QStringLiteral("/dev/ttyUSB0"));
    QCOMPARE(device.options->baudRate, 4800);
    QVERIFY(device.options->file.isEmpty());
}

void TestRiderOptions::invalid_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("error");
    QTest::newRow("no source") << QStringList {} << "give exactly one position source";
    QTest::newRow("file and device")
        << QStringList {QStringLiteral("a.gpx"), QStringLiteral("--device"),
                        QStringLiteral("/dev/x")}
        << "give exactly one position source";
    QTest::newRow("two files") << QStringList {QStringLiteral("a.gpx"), QStringLiteral("b.gpx")}
                               << "expected one FILE, got 2";
    QTest::newRow("speedup 0") << QStringList {QStringLiteral("--speedup"), QStringLiteral("0"),
                                               QStringLiteral("a.gpx")}
                               << "invalid --speedup \"0\"";
    QTest::newRow("speedup text") << QStringList {QStringLiteral("--speedup"),
                                                  QStringLiteral("fast"), QStringLiteral("a.gpx")}
                                  << "invalid --speedup \"fast\"";
    QTest::newRow("http server") << QStringList {
        QStringLiteral("--server"), QStringLiteral("http://127.0.0.1/socket"),
        QStringLiteral("a.gpx")} << "invalid --server";
    QTest::newRow("slug without token")
        << QStringList {QStringLiteral("--slug"), QStringLiteral("a-b"), QStringLiteral("a.gpx")}
        << "--slug and --token go together";
    QTest::newRow("negative max pause")
        << QStringList {QStringLiteral("--max-pause"), QStringLiteral("-1"),
                        QStringLiteral("a.gpx")}
        << "invalid --max-pause \"-1\"";
    QTest::newRow("unknown option")
        << QStringList {QStringLiteral("--fly"), QStringLiteral("a.gpx")} << "Unknown option 'fly'";
}

void TestRiderOptions::invalid()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, error);
    arguments.prepend(QStringLiteral("omw-rider"));
    const ParsedArguments parsed = parseRiderArguments(arguments);
    QVERIFY(!parsed.options);
    QVERIFY2(parsed.errorString.contains(error), qPrintable(parsed.errorString));
}

void TestRiderOptions::help()
{
    const ParsedArguments parsed
        = parseRiderArguments({QStringLiteral("omw-rider"), QStringLiteral("--help")});
    QVERIFY(!parsed.options);
    QVERIFY(parsed.errorString.isEmpty());
    QVERIFY(parsed.output.contains(QLatin1String("--speedup <N>")));
    QVERIFY(parsed.output.contains(QLatin1String("--original-times")));
}

QTEST_GUILESS_MAIN(TestRiderOptions)
#include "tst_rideroptions.moc"
