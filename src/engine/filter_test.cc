#include "stash/engine/filter.h"

#include <gtest/gtest.h>

#include "stash/core/testing.h"

namespace stash::engine {
namespace {

bool Matches(const std::string& pattern, const std::string& path) {
  auto list = PatternList::Parse({pattern});
  EXPECT_OK(list) << pattern;
  return list->Match(path);
}

bool ChildMayMatch(const std::string& pattern, const std::string& path) {
  auto list = PatternList::Parse({pattern});
  EXPECT_OK(list) << pattern;
  return list->MatchWithChild(path).second;
}

TEST(GoPathMatch, WildcardsClassesAndEscapes) {
  EXPECT_TRUE(*GoPathMatch("*.go", "test.go"));
  EXPECT_FALSE(*GoPathMatch("*.go", "dir/test.go"));  // '*' never crosses '/'
  EXPECT_TRUE(*GoPathMatch("a?c", "abc"));
  EXPECT_TRUE(*GoPathMatch("a?c",
                           "a\xc3\xa9"
                           "c"));  // '?' is one rune, not one byte
  EXPECT_TRUE(*GoPathMatch("[a-c]x", "bx"));
  EXPECT_FALSE(*GoPathMatch("[^a-c]x", "bx"));
  EXPECT_TRUE(*GoPathMatch("\\*", "*"));
  EXPECT_FALSE(*GoPathMatch("\\*", "x"));
  EXPECT_TRUE(*GoPathMatch("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(GoPathMatch("[", "x").ok());
  EXPECT_FALSE(GoPathMatch("a[", "b").ok());  // malformed even when the prefix fails
  EXPECT_FALSE(GoPathMatch("x\\", "x").ok());
}

TEST(GoPathClean, AsGo) {
  EXPECT_EQ(GoPathClean(""), ".");
  EXPECT_EQ(GoPathClean("/foo///bar/"), "/foo/bar");
  EXPECT_EQ(GoPathClean("/foo/../bar"), "/bar");
  EXPECT_EQ(GoPathClean("/../x"), "/x");
  EXPECT_EQ(GoPathClean("a/./b/.."), "a");
  EXPECT_EQ(GoPathClean("../a"), "../a");
}

// Cases from restic 0.14's documented matching behaviour.
TEST(PatternList, MatchesAsRestic) {
  struct Case {
    const char* pattern;
    const char* path;
    bool match;
  } cases[] = {
      {"*.go", "/foo/bar/test.go", true},
      {"*.c", "/foo/bar/test.go", false},
      {"**", "/foo/bar/test.go", true},
      {"bar*", "/foo/bar/test.go", true},
      {"/bar*", "/foo/bar/test.go", false},
      {"bar/*", "/foo/bar/test.go", true},
      {"baz/*", "/foo/bar/test.go", false},
      {"ba*/*.go", "/foo/bar/test.go", true},
      {"tesT.*", "/foo/bar/test.go", false},
      {"/foo/bar/", "/foo/bar", true},
      {"/foo/bar", "/foo/baz", false},
      {"/foo///bar", "/foo/bar", true},
      {"/foo/../bar", "/foo/bar", false},
      {"/foo/../bar", "/bar", true},
      {"/foo", "/foo/baz", true},
      {"/foo/*", "/foo", false},
      {"/foo/*test.*", "/foo/bar/test.go", false},
      {"/foo/*/test.*", "/foo/bar/test.go", true},
      {"/*/*/baz/test.*", "/foo/bar/baz/test.go", true},
      {"sdk", "/foo/bar/sdk/test/sdk_foo.go", true},
      {"foo/**/bar/*.go", "/home/user/foo/work/special/project/bar/test.go", true},
      {"foo/**/bar/*.go", "/home/user/foo/bar/test.go", true},
      {"foo/**/bar/*.go", "/home/user/foo/test.c", false},
      {"foo/**/bar/*.go", "bar/foo/main.go", false},
      {"foo/**/bar/**/x", "/home/user/foo/blaaa/blaz/bar/shared/work/x", true},
      {"user/**/important*", "/home/user/work/x/y/hidden/x", false},
      {"user/**/hidden*/**/c", "/home/user/work/x/y/hidden/z/a/b/c", true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Matches(c.pattern, c.path), c.match) << c.pattern << " vs " << c.path;
  }
}

TEST(PatternList, ChildMayMatchTellsTheWalkWhereToDescend) {
  struct Case {
    const char* pattern;
    const char* path;
    bool child;
  } cases[] = {
      {"foo/bar", "/foo", true},
      {"bar", "/foo", true},
      {"/foo/bar/baz", "/foo/bar", true},
      {"/foo/bar/baz", "/foo/baz", false},
      {"/foo/**/qux", "/foo/bar/baz/boo", true},
      {"/foo/*/qux", "/foo/bar/boo", false},
      {"/baz/bar", "/foo", false},
      {"/bar/*", "/foo", false},
      {"/foo/*/baz", "/bar/baz", false},
      {"/**/bar", "/foo/bar", true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ChildMayMatch(c.pattern, c.path), c.child) << c.pattern << " vs " << c.path;
  }
}

TEST(PatternList, NegationReincludesInOrder) {
  auto list = PatternList::Parse({"*.go", "!main.go"});
  ASSERT_OK(list);
  EXPECT_TRUE(list->Match("/src/util.go"));
  EXPECT_FALSE(list->Match("/src/main.go"));
  EXPECT_FALSE(list->Match("/src/readme"));
}

TEST(PatternList, EmptyPatternsAreSkippedAndBadOnesNamed) {
  auto empty = PatternList::Parse({"", ""});
  ASSERT_OK(empty);
  EXPECT_TRUE(empty->empty());
  EXPECT_FALSE(empty->Match("/x"));

  auto bad = PatternList::Parse({"ok*", "bad[", "also\\"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad["), std::string::npos);
  EXPECT_NE(bad.status().message().find("also\\"), std::string::npos);
}

}  // namespace
}  // namespace stash::engine
