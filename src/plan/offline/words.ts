/**
 * What the offline planner does with words no rule took. It refuses to act on part of an
 * intent: a word it cannot place may change the meaning ("check disk below 10%"), so only
 * the filler below may be left over. Verbs it never performs get a message of their own.
 */

/** Verbs the offline planner never performs, named in the error so the operator knows why. */
export const UNSUPPORTED_VERBS: ReadonlySet<string> = new Set(
  `reboot shutdown halt poweroff stop start kill delete remove rm install uninstall upgrade update
   deploy enable disable create drop truncate format wipe purge reload mount unmount umount chmod chown
   copy move edit change set configure patch rollback`.split(/\s+/),
);

/** Words that carry no instruction of their own once the rules have read the intent. */
export const FILLER_WORDS: ReadonlySet<string> = new Set(
  `a an the and or then also please could can would will you kindly just now currently right me us we i
   my our all each every any some check checks checking look see find show list tell report give get
   print display alert alerts warn warning notify flag if whether when where while that this these those
   it its them they their is are be been was were does do did has have had on in at of for from to with
   across via by into runs run running installed open opened listening reachable healthy health alive
   ok okay fine working works there here what which how whats usage used use value level state status
   up hosts host servers server machines machines machine nodes node boxes box vms vm version versions`.split(
    /\s+/,
  ),
);
