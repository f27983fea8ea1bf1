import QtQuick
import QtTest
import Omw.Console
import Omw.Console.Core

Item {
    id: root
    width: 360
    height: 600


    RideModel {
        id: rides
        clockRunning: false
        now: 1767225600000
    }

    RideList {
        id: list
        width: 360
        height: 600
        rides: rides
    }

    SignalSpy {
        id: activatedSpy
        target: list
        signalName: "rideActivated"
    }
    SignalSpy {
        id: removeSpy
        target: list
        signalName: "removeRequested"
    }

    TestCase {
        id: testCase
        name: "RideList"
        when: windowShown

        function init() {
            rides.clear()
            rides.selectedSlug = ""
            activatedSpy.clear()
            removeSpy.clear()
        }

        function addRide(slug, latitude, speed, heading) {
            rides.applySnapshot({
                slug: slug,
                state: "live",
                last: { latitude: latitude, longitude: 11.58, speed: speed, heading: heading,
                        timestamp: 1767225590000 },
                trail: [
                    { latitude: latitude - 0.01, longitude: 11.58, timestamp: 1767225500000 },
                    { latitude: latitude, longitude: 11.58, speed: speed, heading: heading,
                      timestamp: 1767225590000 }
                ]
            })
        }

        function findByName(item, name) {
            if (item.objectName === name)
                return item
            for (let i = 0; i < item.children.length; ++i) {
                const found = findByName(item.children[i], name)
                if (found)
                    return found
            }
            return null
        }

        function test_showsEveryRide() {
            addRide("describe-canoe", 48.14, 10, 45)
            addRide("ribbon-spray", 48.20, 0, null)
            compare(list.count, 2)
            waitForRendering(list)
            const first = list.itemAtIndex(0)
            verify(first)
            compare(first.slug, "describe-canoe")
            compare(findByName(first, "speed").text, "36 km/h")
            compare(findByName(first, "heading").text, "NE 45°")
            compare(findByName(first, "distance").text, "1.1 km")
            verify(findByName(first, "lastUpdate").text.indexOf("(10 s)") > 0)
            const second = list.itemAtIndex(1)
            compare(second.slug, "ribbon-spray")
            // No heading reported: the course from its last two fixes, marked as derived.
            compare(findByName(second, "heading").text, "≈ N 0°")
        }

        function test_clickSelects() {
            addRide("describe-canoe", 48.14, 10, 45)
            addRide("ribbon-spray", 48.20, 5, 90)
            waitForRendering(list)
            const second = list.itemAtIndex(1)
            mouseClick(second, 40, second.height / 2)
            compare(rides.selectedSlug, "ribbon-spray")
            compare(activatedSpy.count, 1)
            compare(activatedSpy.signalArguments[0][0], "ribbon-spray")
            compare(list.currentIndex, 1)
            verify(second.selected)
            verify(!list.itemAtIndex(0).selected)
        }

        function test_removeButton() {
            addRide("describe-canoe", 48.14, 10, 45)
            waitForRendering(list)
            const button = findByName(list.itemAtIndex(0), "removeRide")
            verify(button)
            mouseClick(button)
            compare(removeSpy.count, 1)
            compare(removeSpy.signalArguments[0][0], "describe-canoe")
            compare(activatedSpy.count, 0)
        }

        function test_stateUpdates() {
            addRide("describe-canoe", 48.14, 10, 45)
            waitForRendering(list)
            const card = list.itemAtIndex(0)
            compare(card.rideState, RideModel.Live)
            rides.now = 1767225590000 + 61000
            compare(card.rideState, RideModel.Stale)
            rides.applyOffline("describe-canoe", 1767225660000)
            compare(card.rideState, RideModel.Offline)
            rides.applyTerminated("describe-canoe")
            compare(card.rideState, RideModel.Ended)
        }

        function test_emptyListHint() {
            compare(list.count, 0)
            rides.addRide("describe-canoe")
            compare(list.count, 1)
        }
    }
}
