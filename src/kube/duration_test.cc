#include "stash/kube/duration.h"

#include <gtest/gtest.h>

#include "stash/core/testing.h"

namespace stash::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(GoDurationTest, FormatsAsGo) {
  EXPECT_EQ(FormatGoDuration(milliseconds(65400)), "1m5s");
  EXPECT_EQ(FormatGoDuration(seconds(3600)), "1h0m0s");
  EXPECT_EQ(FormatGoDuration(milliseconds(1234), milliseconds(1)), "1.234s");
}

TEST(GoDurationTest, ParsesWhatGoParses) {
  EXPECT_EQ(*ParseGoDuration("90s"), seconds(90));
  EXPECT_EQ(*ParseGoDuration("1h30m"), seconds(5400));
  EXPECT_EQ(*ParseGoDuration("1.5h"), seconds(5400));
  EXPECT_EQ(*ParseGoDuration("300ms"), milliseconds(300));
  EXPECT_EQ(*ParseGoDuration("0"), Duration(0));
  EXPECT_EQ(*ParseGoDuration("-2m"), seconds(-120));
  for (const char* bad : {"", "10", "1d", "h", "1..5s", "5 m"}) {
    EXPECT_EQ(ParseGoDuration(bad).status().code(), Code::kInvalid) << bad;
  }
  EXPECT_NE(ParseGoDuration("1d").status().message().find("unknown unit \"d\""), std::string::npos);
}

}  // namespace
}  // namespace stash::kube
