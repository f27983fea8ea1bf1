import QtQuick
import QtTest
import QtPositioning
import Omw.Console
import Omw.Console.Core

Item {
    id: root
    width: 800
    height: 600


    RideModel {
        id: rides
        clockRunning: false
        now: 1767225600000
    }

    TiledMap {
        id: map
        width: 800
        height: 600
        center: QtPositioning.coordinate(48.1374, 11.5755)
        zoom: 14

        Repeater {
            id: markers
            model: rides
            delegate: RideMarker {
                required property var coordinate
                position: map.toView(coordinate)
            }
        }
    }

    TestCase {
        id: testCase
        name: "RideMarker"
        when: windowShown

        function init() {
            rides.clear()
            map.center = QtPositioning.coordinate(48.1374, 11.5755)
            map.zoom = 14
        }

        function snapshot(slug, latitude, longitude, speed, heading) {
            return {
                slug: slug,
                state: "live",
                last: { latitude: latitude, longitude: longitude, speed: speed, heading: heading,
                        timestamp: 1767225595000, received_at: 1767225595100 },
                trail: []
            }
        }

        function markerFor(slug) {
            for (let i = 0; i < markers.count; ++i) {
                const item = markers.itemAt(i)
                if (item && item.slug === slug)
                    return item
            }
            return null
        }

        function findChild(item, name) {
            for (let i = 0; i < item.children.length; ++i) {
                if (item.children[i].objectName === name)
                    return item.children[i]
            }
            return null
        }

        function test_placedAtProjectedPosition() {
            verify(rides.applySnapshot(snapshot("describe-canoe", 48.14, 11.58, 10, 45)))
            const marker = markerFor("describe-canoe")
            verify(marker)
            const expected = WebMercator.toView(QtPositioning.coordinate(48.14, 11.58), map.center,
                                                map.zoom, map.width, map.height)
            fuzzyCompare(marker.x + marker.width / 2, expected.x, 1e-6)
            fuzzyCompare(marker.y + marker.height / 2, expected.y, 1e-6)
            verify(marker.visible)
        }

        function test_followsPanAndZoom() {
            rides.applySnapshot(snapshot("describe-canoe", 48.14, 11.58, 10, 45))
            const marker = markerFor("describe-canoe")
            const before = Qt.point(marker.x, marker.y)
            map.panBy(30, -20)
            fuzzyCompare(marker.x, before.x + 30, 1e-6)
            fuzzyCompare(marker.y, before.y - 20, 1e-6)
            map.zoomAround(400, 300, 15)
            const expected = map.toView(QtPositioning.coordinate(48.14, 11.58))
            fuzzyCompare(marker.x + marker.width / 2, expected.x, 1e-6)
        }

        function test_movesWithNewCoordinates() {
            rides.applySnapshot(snapshot("describe-canoe", 48.14, 11.58, 10, 45))
            rides.applyCoordinates("describe-canoe", { latitude: 48.135, longitude: 11.57, speed: 12,
                                                       heading: 200, timestamp: 1767225599000 })
            const marker = markerFor("describe-canoe")
            const expected = map.toView(QtPositioning.coordinate(48.135, 11.57))
            fuzzyCompare(marker.x + marker.width / 2, expected.x, 1e-6)
            fuzzyCompare(marker.y + marker.height / 2, expected.y, 1e-6)
            compare(findChild(marker, "headingArrow").rotation, 200)
        }

        function test_markerKinds_data() {
            return [
                { tag: "moving north-east", speed: 10, heading: 45, arrow: true, dot: false, ring: false, rotation: 45 },
                { tag: "moving west", speed: 25, heading: 270, arrow: true, dot: false, ring: false, rotation: 270 },
                { tag: "stationary", speed: 0, heading: 90, arrow: false, dot: true, ring: false },
                { tag: "just below stationary speed", speed: 0.49, heading: 90, arrow: false, dot: true, ring: false },
                { tag: "at stationary speed", speed: 0.5, heading: 90, arrow: true, dot: false, ring: false, rotation: 90 },
                { tag: "heading unknown", speed: 8, heading: null, arrow: false, dot: false, ring: true },
                { tag: "speed unknown, heading known", speed: null, heading: 10, arrow: true, dot: false, ring: false, rotation: 10 },
                { tag: "both unknown", speed: null, heading: null, arrow: false, dot: false, ring: true },
            ]
        }

        function test_markerKinds(data) {
            rides.applySnapshot(snapshot("describe-canoe", 48.14, 11.58, data.speed, data.heading))
            const marker = markerFor("describe-canoe")
            verify(marker)
            compare(findChild(marker, "headingArrow").visible, data.arrow)
            compare(findChild(marker, "stationaryDot").visible, data.dot)
            compare(findChild(marker, "unknownHeadingRing").visible, data.ring)
            if (data.arrow)
                compare(findChild(marker, "headingArrow").rotation, data.rotation)
        }

        function test_noMarkerWithoutFix() {
            rides.addRide("waiting-ride")
            const marker = markerFor("waiting-ride")
            verify(marker)
            compare(marker.visible, false)
            rides.applyCoordinates("waiting-ride", { latitude: 48.14, longitude: 11.58, speed: 3,
                                                     heading: 0, timestamp: 1767225599000 })
            compare(marker.visible, true)
        }

        function test_labelShowsMnemonicAndSpeed() {
            rides.speedUnit = "km/h"
            rides.applySnapshot(snapshot("describe-canoe", 48.14, 11.58, 10, 45))
            const marker = markerFor("describe-canoe")
            compare(marker.slug, "describe-canoe")
            compare(marker.speedText, "36 km/h")
            rides.speedUnit = "kn"
            compare(marker.speedText, "19 kn")
        }

        function test_stateColours() {
            rides.applySnapshot(snapshot("describe-canoe", 48.14, 11.58, 10, 45))
            const marker = markerFor("describe-canoe")
            compare(marker.rideState, RideModel.Live)
            compare(marker.color, Theme.stateColor(RideModel.Live))
            rides.applyOffline("describe-canoe", 1767225599000)
            compare(marker.rideState, RideModel.Offline)
            compare(marker.color, Theme.stateColor(RideModel.Offline))
            rides.applyTerminated("describe-canoe")
            compare(marker.rideState, RideModel.Ended)
            verify(marker.opacity < 1)
        }
    }
}
