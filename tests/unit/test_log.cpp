#include <iostream>
#include <set>

#include <gtest/gtest.h>

#include "base/after_call.hpp"
#include "base/log.hpp"

using namespace damond;

TEST(Log, JournalEntriesCarryTheTransitionsFields) {
    EXPECT_EQ(journal_fields(6, "app 'org.example.A' background -> foreground",
                             {message_id::kAppSwitched, "", "org.example.A"}),
              (std::vector<std::string>{"PRIORITY=6", "MESSAGE=app 'org.example.A' background -> foreground",
                                        "SYSLOG_IDENTIFIER=damond", "MESSAGE_ID=32e6969271bf4f62ad2989ec22f2274a",
                                        "APP=org.example.A"}));
    EXPECT_EQ(journal_fields(6, "kdamond 3 adopted", {message_id::kKdamondAdopted, "kdemo", "", 3}),
              (std::vector<std::string>{"PRIORITY=6", "MESSAGE=kdamond 3 adopted", "SYSLOG_IDENTIFIER=damond",
                                        "MESSAGE_ID=7adbeed9813c47dea5ca1ef615cabefa", "CONTEXT=kdemo", "KDAMOND=3"}));
    EXPECT_EQ(journal_fields(3, "plain", {}),
              (std::vector<std::string>{"PRIORITY=3", "MESSAGE=plain", "SYSLOG_IDENTIFIER=damond"}));
}

TEST(Log, MessageIdsAreDistinct128BitHex) {
    const std::vector<const char*> ids = {
        message_id::kContextCreated,   message_id::kContextRemoved,  message_id::kContextState,
        message_id::kContextCommitted, message_id::kAppRegistered,   message_id::kAppSwitched,
        message_id::kAppGone,          message_id::kHoldTaken,       message_id::kHoldReleased,
        message_id::kKdamondAdopted,   message_id::kStateRestored,   message_id::kConfigReloaded,
        message_id::kAccessDenied,     message_id::kContextRestored, message_id::kReady,
        message_id::kStopping,         message_id::kReloadRejected};
    std::set<std::string> seen;
    for (const char* id : ids) {
        const std::string s = id;
        EXPECT_EQ(s.size(), 32u) << s;
        EXPECT_EQ(s.find_first_not_of("0123456789abcdef"), std::string::npos) << s;
        EXPECT_TRUE(seen.insert(s).second) << s;
    }
}

TEST(Log, EntriesOfACallAreWrittenInOrderWhenTheOutermostAfterCallEnds) {
    ::testing::internal::CaptureStderr();
    std::string during;
    {
        AfterCall outer;
        log_info("first");
        {
            AfterCall inner;
            log_notice("second");
        }
        log_error("third");
        std::cerr.flush();
        during = ::testing::internal::GetCapturedStderr();  // ends the capture: nothing was written yet
        ::testing::internal::CaptureStderr();
    }
    log_info("after");
    const std::string out = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(during, "");
    EXPECT_EQ(out, "<6>damond: first\n<5>damond: second\n<3>damond: third\n<6>damond: after\n");
}
