// Help page: what the banners mean and how hours can be typed.

import { h } from "../dom.js";

export function render({ main }) {
  main.append(
    h("h1", { tabindex: "-1" }, "Help"),
    h(
      "section",
      { class: "card prose" },
      h("h2", {}, "Banners at the top of the page"),
      h(
        "div",
        { class: "help-banner banner-error" },
        h("strong", {}, "Red: Connection lost - server temporarily unavailable"),
      ),
      h(
        "p",
        {},
        "Track could not reach the server twice in a row. Your page stays as it is, and Track checks in the ",
        "background, more slowly each time, until the server answers; it pauses while the tab is hidden. ",
        "Work logs you add in the meantime are stored in this browser and sent once the server is back.",
      ),
      h(
        "ul",
        {},
        h("li", {}, h("strong", {}, "Try again"), " resends your last request at once."),
        h("li", {}, h("strong", {}, "Refresh page"), " reloads the whole page. Stored work logs are kept."),
        h("li", {}, h("strong", {}, "Dismiss"), " hides the banner; Track keeps checking."),
      ),
      h("div", { class: "help-banner banner-ok" }, h("strong", {}, "Green: Connection restored")),
      h(
        "p",
        {},
        "The server answers again. Track sends what was waiting, reloads the data on the page and hides the ",
        "banner after a few seconds. You do not need to reload the page.",
      ),
      h("div", { class: "help-banner banner-warning" }, h("strong", {}, "Amber: Too many requests")),
      h(
        "p",
        {},
        "You sent more requests than the server allows one person in a short time. The banner counts down ",
        "the seconds the server asked for, and Track sends nothing until then, so the wait does not grow. ",
        "Other people are not affected. When the countdown ends, choose Try again.",
      ),
      h("h2", {}, "Typing hours"),
      h(
        "p",
        {},
        "Hours are counted in quarter hours, from 0.25 to 24 per entry and at most 24 per day. ",
        "All of these mean the same: ",
        h("code", {}, "7.5"),
        ", ",
        h("code", {}, "7,5"),
        ", ",
        h("code", {}, "7:30"),
        ", ",
        h("code", {}, "7h30"),
        ". Whole hours can be written as ",
        h("code", {}, "8"),
        " or ",
        h("code", {}, "8h"),
        ".",
      ),
      h("h2", {}, "Phase budgets"),
      h(
        "p",
        {},
        "When you pick a phase with planned hours, the form shows how many remain. If your entry would take ",
        "the phase over its plan, Track warns you first; you can still save it.",
      ),
      h("h2", {}, "Who sees what"),
      h(
        "p",
        {},
        "Engineers see the projects they are members of and their own work logs. Managers and admins see ",
        "every project and work log, manage phases and members, and open the portfolio.",
      ),
    ),
  );
}
