#include "positionvalidator.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <cmath>

Q_DECLARE_METATYPE(Omw::Rejection)

using Omw::Position;
using Omw::PositionValidator;
using Omw::Rejection;
using Omw::ValidationResult;

// PositionValidator on its own: every rule of a NEW_COORDS payload on both sides of its
// boundary, with a fixed receive time so that time limits can be hit to the millisecond.
class tst_PositionValidator : public QObject
{
    Q_OBJECT

private slots:
    void accepted_data();
    void accepted();
    void rejected_data();
    void rejected();
    void noFixAllowedByOption();
    void futureSkewOption();
    void rejectionCodes();
};

// The server clock at validation: 2025-12-04T14:53:20Z.
static constexpr qint64 receivedAt = 1764860000000;
static constexpr double unknown = Position::unknown;

// Parses a JSON value of any type, including bare strings, numbers and null.
static QJsonValue parse(const QByteArray &text)
{
    return QJsonDocument::fromJson("[" + text + "]").array().at(0);
}

static bool sameDouble(double a, double b)
{
    return std::isnan(a) ? std::isnan(b) : a == b;
}

void tst_PositionValidator::accepted_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<double>("latitude");
    QTest::addColumn<double>("longitude");
    QTest::addColumn<double>("speed");
    QTest::addColumn<double>("heading");
    QTest::addColumn<double>("accuracy");
    QTest::addColumn<double>("altitude");
    QTest::addColumn<qint64>("timestamp");

    auto row = [](const char *name, const QByteArray &payload, double latitude, double longitude,
                  double speed = unknown, double heading = unknown, qint64 timestamp = receivedAt,
                  double accuracy = unknown, double altitude = unknown) {
        QTest::newRow(name) << payload << latitude << longitude << speed << heading << accuracy
                            << altitude << timestamp;
    };
    row("minimal", R"({"latitude":48.2,"longitude":8.4})", 48.2, 8.4);
    row("latitude 90", R"({"latitude":90,"longitude":8.4})", 90, 8.4);
    row("latitude -90", R"({"latitude":-90,"longitude":8.4})", -90, 8.4);
    row("longitude 180", R"({"latitude":48.2,"longitude":180})", 48.2, 180);
    row("longitude -180", R"({"latitude":48.2,"longitude":-180})", 48.2, -180);
    row("next to 0,0", R"({"latitude":0.000001,"longitude":0})", 0.000001, 0);
    row("speed 0", R"({"latitude":1,"longitude":2,"speed":0})", 1, 2, 0);
    row("speed 83.3", R"({"latitude":1,"longitude":2,"speed":83.3})", 1, 2, 83.3);
    row("speed -1 unknown", R"({"latitude":1,"longitude":2,"speed":-1})", 1, 2);
    row("speed -0.001 unknown", R"({"latitude":1,"longitude":2,"speed":-0.001})", 1, 2);
    row("speed null", R"({"latitude":1,"longitude":2,"speed":null})", 1, 2);
    row("heading 0", R"({"latitude":1,"longitude":2,"heading":0})", 1, 2, unknown, 0);
    row("heading 359.999", R"({"latitude":1,"longitude":2,"heading":359.999})", 1, 2, unknown,
        359.999);
    row("heading 360 is 0", R"({"latitude":1,"longitude":2,"heading":360})", 1, 2, unknown, 0);
    row("heading -1 unknown", R"({"latitude":1,"longitude":2,"heading":-1})", 1, 2);
    row("heading null", R"({"latitude":1,"longitude":2,"heading":null})", 1, 2);
    row("timestamp 2000-01-01", R"({"latitude":1,"longitude":2,"timestamp":946684800000})", 1, 2,
        unknown, unknown, 946684800000);
    row("timestamp null", R"({"latitude":1,"longitude":2,"timestamp":null})", 1, 2);
    row("timestamp exactly 5 minutes ahead",
        R"({"latitude":1,"longitude":2,"timestamp":1764860300000})", 1, 2, unknown, unknown,
        receivedAt + 300'000);
    row("timestamp fraction truncated",
        R"({"latitude":1,"longitude":2,"timestamp":1764859999999.7})", 1, 2, unknown, unknown,
        receivedAt - 1);
    row("accuracy 0", R"({"latitude":1,"longitude":2,"accuracy":0})", 1, 2, unknown, unknown,
        receivedAt, 0);
    row("altitude below sea level", R"({"latitude":1,"longitude":2,"altitude":-411.5})", 1, 2,
        unknown, unknown, receivedAt, unknown, -411.5);
    row("accuracy and altitude null",
        R"({"latitude":1,"longitude":2,"accuracy":null,"altitude":null})", 1, 2);
    row("extra keys ignored",
        R"({"latitude":1,"longitude":2,"floor":3,"is_mocked":true,"speed_accuracy":"x"})", 1, 2);
}

void tst_PositionValidator::accepted()
{
    QFETCH(QByteArray, payload);
    QFETCH(double, latitude);
    QFETCH(double, longitude);
    QFETCH(double, speed);
    QFETCH(double, heading);
    QFETCH(double, accuracy);
    QFETCH(double, altitude);
    QFETCH(qint64, timestamp);

    const ValidationResult result = PositionValidator().validate(parse(payload), receivedAt);
    QVERIFY2(result.isValid(), qPrintable(result.message));
    QCOMPARE(result.rejection, Rejection::None);
    QCOMPARE(result.message, QString());
    const Position &position = result.position;
    QCOMPARE(position.latitude, latitude);
    QCOMPARE(position.longitude, longitude);
    QVERIFY2(sameDouble(position.speed, speed), qPrintable(QString::number(position.speed)));
    QVERIFY2(sameDouble(position.heading, heading), qPrintable(QString::number(position.heading)));
    QVERIFY2(sameDouble(position.accuracy, accuracy),
             qPrintable(QString::number(position.accuracy)));
    QVERIFY2(sameDouble(position.altitude, altitude),
             qPrintable(QString::number(position.altitude)));
    QCOMPARE(position.timestamp, timestamp);
    QCOMPARE(position.receivedAt, receivedAt);
}

void tst_PositionValidator::rejected_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<Rejection>("rejection");
    QTest::addColumn<QString>("message");

    const QString notObject = QStringLiteral(
        "payload %1 is not a JSON object: send {\"latitude\": ..., \"longitude\": ..., "
        "\"speed\": ..., \"heading\": ...}");
    QTest::newRow("array") << QByteArray("[1,2]") << Rejection::InvalidPayload
                           << notObject.arg("[1,2]");
    QTest::newRow("string") << QByteArray(R"("1,2")") << Rejection::InvalidPayload
                            << notObject.arg(R"("1,2")");
    QTest::newRow("number") << QByteArray("7") << Rejection::InvalidPayload << notObject.arg("7");
    QTest::newRow("boolean") << QByteArray("false") << Rejection::InvalidPayload
                             << notObject.arg("false");
    QTest::newRow("null") << QByteArray("null") << Rejection::InvalidPayload
                          << notObject.arg("null");
    QTest::newRow("long string cut short")
        << QByteArray(R"(")" + QByteArray(100, 'a') + R"(")") << Rejection::InvalidPayload
        << notObject.arg(R"(")" + QString(39, 'a') + "...");

    const QString latitudeRange
        = QStringLiteral("latitude %1 is out of range: expected degrees in [-90, 90]");
    const QString longitudeRange
        = QStringLiteral("longitude %1 is out of range: expected degrees in [-180, 180]");
    QTest::newRow("latitude 90.000001")
        << QByteArray(R"({"latitude":90.000001,"longitude":2})") << Rejection::InvalidCoordinates
        << latitudeRange.arg("90.000001");
    QTest::newRow("latitude -90.000001")
        << QByteArray(R"({"latitude":-90.000001,"longitude":2})") << Rejection::InvalidCoordinates
        << latitudeRange.arg("-90.000001");
    QTest::newRow("longitude 180.000001")
        << QByteArray(R"({"latitude":1,"longitude":180.000001})") << Rejection::InvalidCoordinates
        << longitudeRange.arg("180.000001");
    QTest::newRow("longitude -180.000001")
        << QByteArray(R"({"latitude":1,"longitude":-180.000001})") << Rejection::InvalidCoordinates
        << longitudeRange.arg("-180.000001");
    QTest::newRow("latitude 1e308") << QByteArray(R"({"latitude":1e308,"longitude":2})")
                                    << Rejection::InvalidCoordinates << latitudeRange.arg("1e+308");
    QTest::newRow("latitude missing")
        << QByteArray(R"({"longitude":2})") << Rejection::InvalidCoordinates
        << "latitude is missing: it is required, in WGS 84 degrees";
    QTest::newRow("longitude null")
        << QByteArray(R"({"latitude":1,"longitude":null})") << Rejection::InvalidCoordinates
        << "longitude is missing: it is required, in WGS 84 degrees";
    QTest::newRow("latitude numeric string")
        << QByteArray(R"({"latitude":"1","longitude":2})") << Rejection::InvalidCoordinates
        << R"(latitude "1" is not a number (a string; send a JSON number))";
    QTest::newRow("longitude array")
        << QByteArray(R"({"latitude":1,"longitude":[2]})") << Rejection::InvalidCoordinates
        << "longitude [2] is not a number";

    QTest::newRow("speed numeric string")
        << QByteArray(R"({"latitude":1,"longitude":2,"speed":"0"})") << Rejection::InvalidSpeed
        << R"(speed "0" is not a number (a string; send a JSON number): expected metres per second, or null when unknown)";
    QTest::newRow("speed boolean")
        << QByteArray(R"({"latitude":1,"longitude":2,"speed":false})") << Rejection::InvalidSpeed
        << "speed false is not a number: expected metres per second, or null when unknown";

    QTest::newRow("heading 360.0001")
        << QByteArray(R"({"latitude":1,"longitude":2,"heading":360.0001})")
        << Rejection::InvalidHeading
        << "heading 360.0001 is out of range: expected degrees in [0, 360), or null when unknown";
    QTest::newRow("heading 720") << QByteArray(R"({"latitude":1,"longitude":2,"heading":720})")
                                 << Rejection::InvalidHeading
                                 << "heading 720 is out of range: expected degrees in [0, 360), "
                                    "or null when unknown";
    QTest::newRow("heading numeric string")
        << QByteArray(R"({"latitude":1,"longitude":2,"heading":"north"})")
        << Rejection::InvalidHeading
        << R"(heading "north" is not a number (a string; send a JSON number): expected degrees clockwise from true north, or null when unknown)";

    const QString timestampRange = QStringLiteral(
        "timestamp %1 is out of range: expected UTC milliseconds since the Unix epoch, after "
        "2000-01-01 (seconds are not accepted)");
    QTest::newRow("timestamp 1999-12-31T23:59:59.999Z")
        << QByteArray(R"({"latitude":1,"longitude":2,"timestamp":946684799999})")
        << Rejection::InvalidTimestamp << timestampRange.arg("946684799999");
    QTest::newRow("timestamp in seconds")
        << QByteArray(R"({"latitude":1,"longitude":2,"timestamp":1764860000})")
        << Rejection::InvalidTimestamp << timestampRange.arg("1764860000");
    QTest::newRow("timestamp in whole kiloseconds")
        << QByteArray(R"({"latitude":1,"longitude":2,"timestamp":1700000000})")
        << Rejection::InvalidTimestamp << timestampRange.arg("1700000000");
    QTest::newRow("timestamp negative")
        << QByteArray(R"({"latitude":1,"longitude":2,"timestamp":-1})")
        << Rejection::InvalidTimestamp << timestampRange.arg("-1");
    QTest::newRow("timestamp over 2^53")
        << QByteArray(R"({"latitude":1,"longitude":2,"timestamp":9007199254740994})")
        << Rejection::InvalidTimestamp << timestampRange.arg("9007199254740994");
    QTest::newRow("timestamp string")
        << QByteArray(R"({"latitude":1,"longitude":2,"timestamp":"1764860000000"})")
        << Rejection::InvalidTimestamp
        << R"(timestamp "1764860000000" is not a number (a string; send a JSON number): expected UTC milliseconds since the Unix epoch)";
    QTest::newRow("timestamp 1 ms over 5 minutes ahead")
        << QByteArray(R"({"latitude":1,"longitude":2,"timestamp":1764860300001})")
        << Rejection::TimestampInFuture
        << "timestamp 1764860300001 is 300.001 s ahead of the server clock (at most 300 s "
           "allowed): check the device clock";
    QTest::newRow("timestamp a day ahead")
        << QByteArray(R"({"latitude":1,"longitude":2,"timestamp":1764946400000})")
        << Rejection::TimestampInFuture
        << "timestamp 1764946400000 is 86400 s ahead of the server clock (at most 300 s "
           "allowed): check the device clock";

    QTest::newRow("accuracy -0.1")
        << QByteArray(R"({"latitude":1,"longitude":2,"accuracy":-0.1})")
        << Rejection::InvalidPayload
        << "accuracy -0.1 is invalid: expected metres, 0 or more, or null when unknown";
    QTest::newRow("accuracy string")
        << QByteArray(R"({"latitude":1,"longitude":2,"accuracy":"5"})") << Rejection::InvalidPayload
        << R"(accuracy "5" is invalid (a string; send a JSON number): expected metres, 0 or more, or null when unknown)";
    QTest::newRow("altitude object")
        << QByteArray(R"({"latitude":1,"longitude":2,"altitude":{"m":5}})")
        << Rejection::InvalidPayload
        << R"(altitude {"m":5} is invalid: expected metres, or null when unknown)";

    const QString noFix = QStringLiteral("latitude 0 and longitude 0 is what receivers report "
                                         "without a fix: send a point only once the device has "
                                         "one");
    QTest::newRow("0,0") << QByteArray(R"({"latitude":0,"longitude":0})") << Rejection::NoFix
                         << noFix;
    QTest::newRow("-0,0") << QByteArray(R"({"latitude":-0.0,"longitude":0})") << Rejection::NoFix
                          << noFix;

    // The first failing field is reported.
    QTest::newRow("latitude before speed")
        << QByteArray(R"({"latitude":91,"longitude":2,"speed":"x"})")
        << Rejection::InvalidCoordinates << latitudeRange.arg("91");
}

void tst_PositionValidator::rejected()
{
    QFETCH(QByteArray, payload);
    QFETCH(Rejection, rejection);
    QFETCH(QString, message);

    const ValidationResult result = PositionValidator().validate(parse(payload), receivedAt);
    QVERIFY(!result.isValid());
    QCOMPARE(Omw::rejectionCode(result.rejection), Omw::rejectionCode(rejection));
    QCOMPARE(result.message, message);
}

void tst_PositionValidator::noFixAllowedByOption()
{
    PositionValidator::Options options;
    options.allowNoFix = true;
    const ValidationResult result = PositionValidator(options).validate(
        parse(R"({"latitude":0,"longitude":0,"speed":0})"), receivedAt);
    QVERIFY2(result.isValid(), qPrintable(result.message));
    QCOMPARE(result.position.latitude, 0.0);
    QCOMPARE(result.position.longitude, 0.0);
    QCOMPARE(result.position.speed, 0.0);
}

void tst_PositionValidator::futureSkewOption()
{
    PositionValidator::Options options;
    options.maxFutureSkew = 1500;
    const PositionValidator validator(options);
    const auto payload = [](qint64 timestamp) {
        return QJsonObject {{"latitude", 1}, {"longitude", 2}, {"timestamp", double(timestamp)}};
    };
    QVERIFY(validator.validate(payload(receivedAt + 1500), receivedAt).isValid());
    const ValidationResult late = validator.validate(payload(receivedAt + 1501), receivedAt);
    QCOMPARE(late.rejection, Rejection::TimestampInFuture);
    QCOMPARE(late.message,
             QStringLiteral("timestamp 1764860001501 is 1.501 s ahead of the server clock (at "
                            "most 1.5 s allowed): check the device clock"));
}

void tst_PositionValidator::rejectionCodes()
{
    QStringList codes;
    for (const Rejection rejection : Omw::allRejections()) {
        codes.append(Omw::rejectionCode(rejection));
    }
    QCOMPARE(codes,
             QStringList({"invalid_payload", "invalid_coordinates", "invalid_speed",
                          "invalid_heading", "invalid_timestamp", "no_fix", "timestamp_in_future",
                          "out_of_order", "rate_limited"}));
    QCOMPARE(Omw::rejectionCode(Rejection::None), QString());
}

QTEST_GUILESS_MAIN(tst_PositionValidator)
#include "tst_positionvalidator.moc"
