pragma Singleton
import QtQuick

// Colours and sizes shared by the console's components. State colours are indexed by
// RideModel.State (waiting, live, stale, offline, ended).
QtObject {
    readonly property color accent: "#1a73e8"
    readonly property color panel: "#ffffff"
    readonly property color panelAlt: "#f4f6f8"
    readonly property color divider: "#dde1e6"
    readonly property color text: "#1f2328"
    readonly property color textMuted: "#5f6b7a"
    readonly property color selection: "#e8f0fe"
    readonly property color danger: "#c5221f"
    readonly property color good: "#188038"
    readonly property color warning: "#e37400"

    readonly property list<color> stateColors: ["#80868b", "#1a73e8", "#e37400", "#8e24aa", "#5f6368"]
    readonly property var stateLabels: ["Waiting", "Live", "Stale", "Offline", "Ended"]

    readonly property int radius: 6
    readonly property int spacing: 8
    readonly property int fontSmall: 11
    readonly property int fontNormal: 13
    readonly property int fontLarge: 16

    function stateColor(state: int): color {
        return state >= 0 && state < stateColors.length ? stateColors[state] : stateColors[0]
    }
    function stateLabel(state: int): string {
        return state >= 0 && state < stateLabels.length ? stateLabels[state] : ""
    }
}
