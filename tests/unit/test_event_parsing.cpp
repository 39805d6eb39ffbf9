#include <gtest/gtest.h>

#include "events/desktop_focus_watcher.hpp"
#include "events/freezer_watcher.hpp"

using namespace damond;

TEST(DesktopUnits, AppIdsComeFromXdgUnitNames) {
    EXPECT_EQ(app_id_from_unit("app-gnome-org.gnome.Terminal-4711.scope"), "org.gnome.Terminal");
    EXPECT_EQ(app_id_from_unit("app-flatpak-org.mozilla.firefox-123456.scope"), "org.mozilla.firefox");
    EXPECT_EQ(app_id_from_unit("app-org.kde.konsole@a1b2c3.service"), "org.kde.konsole");
    EXPECT_EQ(app_id_from_unit("app-gnome-org.gnome.Nautilus@autostart.service"), "org.gnome.Nautilus");
    EXPECT_EQ(app_id_from_unit("app-firefox-99.scope"), "firefox");
    EXPECT_EQ(app_id_from_unit("app-gnome-firefox-99.scope"), "firefox");
    // Escaped dashes belong to the id, not to the name's structure.
    EXPECT_EQ(app_id_from_unit("app-gnome-org.example.my\\x2deditor-7.scope"), "org.example.my-editor");
    // Not app units.
    EXPECT_EQ(app_id_from_unit("session-2.scope"), "");
    EXPECT_EQ(app_id_from_unit("app-nodash.scope"), "");
    EXPECT_EQ(app_id_from_unit("app-foo.slice"), "");
    EXPECT_EQ(app_id_from_unit("dbus.service"), "");
}

TEST(FreezerEvents, FrozenIsReadFromCgroupEvents) {
    EXPECT_EQ(frozen_from_events("populated 1\nfrozen 1\n"), 1);
    EXPECT_EQ(frozen_from_events("populated 0\nfrozen 0\n"), 0);
    EXPECT_EQ(frozen_from_events("populated 1\n"), -1);
    EXPECT_EQ(frozen_from_events(""), -1);
}
