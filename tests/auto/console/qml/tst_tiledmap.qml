import QtQuick
import QtTest
import QtPositioning
import Omw.Console
import Omw.Console.Core

Item {
    id: root
    width: 800
    height: 600


    TiledMap {
        id: map
        width: 800
        height: 600
    }

    SignalSpy {
        id: movedSpy
        target: map
        signalName: "userMoved"
    }

    TestCase {
        id: testCase
        name: "TiledMap"
        when: windowShown

        function init() {
            map.center = QtPositioning.coordinate(48.1374, 11.5755)
            map.zoom = 12
            movedSpy.clear()
            map.forceActiveFocus()
        }

        function pointOf(coordinate) {
            return WebMercator.toView(coordinate, map.center, map.zoom, map.width, map.height)
        }

        function test_dragPans() {
            const start = QtPositioning.coordinate(map.center.latitude, map.center.longitude)
            mouseDrag(map, 400, 300, 100, -50, Qt.LeftButton, Qt.NoModifier, 10)
            // The former centre moved with the pointer, by the whole drag.
            const moved = pointOf(start)
            fuzzyCompare(moved.x, 500, 0.5)
            fuzzyCompare(moved.y, 250, 0.5)
            verify(movedSpy.count > 0)
            compare(map.zoom, 12)
        }

        function test_wheelZoomsAroundPointer() {
            const anchor = map.fromView(200, 150)
            mouseWheel(map, 200, 150, 0, 120)
            compare(map.zoom, 12.5)
            const after = pointOf(anchor)
            fuzzyCompare(after.x, 200, 1e-6)
            fuzzyCompare(after.y, 150, 1e-6)
            mouseWheel(map, 600, 500, 0, -240)
            compare(map.zoom, 11.5)
            compare(movedSpy.count, 2)
        }

        function test_doubleClickZoomsIn() {
            map.zoom = 12.4
            const anchor = map.fromView(300, 400)
            mouseDoubleClickSequence(map, 300, 400)
            compare(map.zoom, 13)
            const after = pointOf(anchor)
            fuzzyCompare(after.x, 300, 1e-6)
            fuzzyCompare(after.y, 400, 1e-6)
        }

        function test_keyboard_data() {
            return [
                { tag: "left", key: Qt.Key_Left, dx: 120, dy: 0, zoom: 12 },
                { tag: "right", key: Qt.Key_Right, dx: -120, dy: 0, zoom: 12 },
                { tag: "up", key: Qt.Key_Up, dx: 0, dy: 120, zoom: 12 },
                { tag: "down", key: Qt.Key_Down, dx: 0, dy: -120, zoom: 12 },
                { tag: "plus", key: Qt.Key_Plus, dx: 0, dy: 0, zoom: 13 },
                { tag: "equal", key: Qt.Key_Equal, dx: 0, dy: 0, zoom: 13 },
                { tag: "minus", key: Qt.Key_Minus, dx: 0, dy: 0, zoom: 11 },
            ]
        }

        function test_keyboard(data) {
            const start = QtPositioning.coordinate(map.center.latitude, map.center.longitude)
            keyClick(data.key)
            compare(map.zoom, data.zoom)
            const moved = pointOf(start)
            fuzzyCompare(moved.x, 400 + data.dx, 1e-6)
            fuzzyCompare(moved.y, 300 + data.dy, 1e-6)
            compare(movedSpy.count, 1)
        }

        function test_zoomLimits_data() {
            return [
                { tag: "above 19", from: 18.8, wheel: 240, expected: 19 },
                { tag: "at 19", from: 19, wheel: 120, expected: 19 },
                { tag: "below 0", from: 0.2, wheel: -240, expected: 0 },
                { tag: "at 0", from: 0, wheel: -120, expected: 0 },
            ]
        }

        function test_zoomLimits(data) {
            map.zoom = data.from
            mouseWheel(map, 400, 300, 0, data.wheel)
            compare(map.zoom, data.expected)
        }

        function test_pinchZoomsAroundCentroid() {
            const anchor = map.fromView(400, 300)
            const touch = touchEvent(map)
            touch.press(0, map, 350, 300).press(1, map, 450, 300).commit()
            for (let step = 1; step <= 10; ++step)
                touch.move(0, map, 350 - step * 10, 300).move(1, map, 450 + step * 10, 300).commit()
            touch.release(0, map, 250, 300).release(1, map, 550, 300).commit()
            // The fingers ended three times as far apart as they started; the handler counts
            // the spread from where it activated, past the drag threshold.
            verify(map.zoom > 12.2, "zoom " + map.zoom)
            verify(map.zoom <= 12 + Math.log2(3) + 1e-6, "zoom " + map.zoom)
            verify(movedSpy.count > 0)
            const after = pointOf(anchor)
            fuzzyCompare(after.x, 400, 1)
            fuzzyCompare(after.y, 300, 1)
        }

        function test_fitShowsEveryCoordinate() {
            const coordinates = [QtPositioning.coordinate(48.0, 11.0), QtPositioning.coordinate(48.3, 11.8)]
            map.fit(coordinates, 50, 17)
            for (const coordinate of coordinates) {
                const point = pointOf(coordinate)
                verify(point.x >= 49 && point.x <= 751, "x " + point.x)
                verify(point.y >= 49 && point.y <= 551, "y " + point.y)
            }
        }
    }
}
