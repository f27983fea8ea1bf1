import QtQuick
import QtTest
import Omw.Console
import Omw.Console.Core

Item {
    id: root
    width: 400
    height: 120

    FollowBar {
        id: bar
        width: 400
    }

    ConnectionIndicator {
        id: indicator
        y: 60
        connectionState: RideTracker.Connected
        dispatchState: RideTracker.DispatchOff
        serverUrl: "ws://127.0.0.1:4000/socket"
        reconnectAttempt: 0
    }

    SignalSpy {
        id: followSpy
        target: bar
        signalName: "followRequested"
    }

    TestCase {
        name: "FollowBar"
        when: windowShown

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

        function init() {
            followSpy.clear()
            findByName(bar, "followField").text = ""
        }

        function test_enterFollows() {
            const field = findByName(bar, "followField")
            field.forceActiveFocus()
            keyClick(Qt.Key_D)
            keyClick(Qt.Key_Minus)
            keyClick(Qt.Key_C)
            compare(field.text, "d-c")
            keyClick(Qt.Key_Return)
            compare(followSpy.count, 1)
            compare(followSpy.signalArguments[0][0], "d-c")
            compare(field.text, "")
        }

        function test_buttonFollowsTrimmedText() {
            const field = findByName(bar, "followField")
            const button = findByName(bar, "followButton")
            compare(button.enabled, false)
            field.text = "  https://omw.example/follow/describe-canoe  "
            compare(button.enabled, true)
            mouseClick(button)
            compare(followSpy.count, 1)
            compare(followSpy.signalArguments[0][0], "https://omw.example/follow/describe-canoe")
        }

        function test_blankTextIgnored() {
            const field = findByName(bar, "followField")
            field.text = "   "
            field.forceActiveFocus()
            keyClick(Qt.Key_Return)
            compare(followSpy.count, 0)
            compare(findByName(bar, "followButton").enabled, false)
        }

        function test_connectionTexts_data() {
            return [
                { tag: "connected", state: RideTracker.Connected, attempt: 0, text: "Connected" },
                { tag: "connecting", state: RideTracker.Connecting, attempt: 0, text: "Connecting…" },
                { tag: "reconnecting", state: RideTracker.Reconnecting, attempt: 3, text: "Reconnecting (attempt 3)…" },
                { tag: "disconnected", state: RideTracker.Disconnected, attempt: 0, text: "Disconnected" },
            ]
        }

        function test_connectionTexts(data) {
            indicator.connectionState = data.state
            indicator.reconnectAttempt = data.attempt
            compare(indicator.stateText, data.text)
            compare(indicator.dotColor, data.state === RideTracker.Connected ? Theme.good
                    : data.state === RideTracker.Disconnected ? Theme.danger : Theme.warning)
        }

        function test_dispatchTexts() {
            indicator.dispatchState = RideTracker.DispatchOff
            compare(indicator.dispatchText, "")
            indicator.dispatchState = RideTracker.DispatchJoined
            compare(indicator.dispatchText, "dispatch: all rides")
            indicator.dispatchState = RideTracker.DispatchRejected
            compare(indicator.dispatchText, "dispatch: token refused")
        }
    }
}
