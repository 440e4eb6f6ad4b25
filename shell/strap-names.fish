# strap's completion of names: prints the kind of name wanted at the cursor (and any
# `--root DIR` given), or fails where clap's rules above apply.
function __strap_name_context
    set -l words (commandline -opc)
    set -e words[1]
    set -l cur (commandline -ct)
    set -l cmd
    set -l sub
    set -l root
    set -l pending
    set -l npos 0
    for word in $words
        if set -q pending[1]
            test "$pending" = --root; and set root --root $word
            set -e pending
            continue
        end
        switch $word
            case @VALUE_OPTIONS@
                set pending $word
            case '--root=*'
                set root $word
            case '-*'
            case '*'
                if test -z "$cmd"
                    set cmd $word
                else if contains -- "$cmd" recipe boost; and test -z "$sub"
                    set sub $word
                else
                    set npos (math $npos + 1)
                end
        end
    end
    set -q pending[1]; and return 1
    string match -q -- '-*' "$cur"; and return 1
    switch "$cmd"
        case global local shell
            echo selectable
        case uninstall prefix
            echo installed
        case install
            echo catalog
        case recipe
            contains -- "$sub" run show; and test $npos = 0; and not string match -q -- '*/*' "$cur"
            or return 1
            echo recipe
        case boost
            switch "$sub"
                case uninstall
                    echo boost
                case prefix env
                    test $npos = 0; or return 1
                    echo boost
                case install
                    test $npos = 0; or return 1
                    echo boost-catalog
                case '*'
                    return 1
            end
        case '*'
            return 1
    end
    test -n "$root[1]"; and string join \n -- $root
    return 0
end

function __strap_names
    set -l context (__strap_name_context); or return
    set -l root $context[2..-1]
    set -l names
    switch $context[1]
        case selectable
            set names system (command strap $root versions --bare 2>/dev/null)
        case installed
            set names (command strap $root versions --bare 2>/dev/null)
        case catalog
            set names (command strap $root install --list --bare 2>/dev/null)
        case recipe
            set names (command strap $root recipe list --bare 2>/dev/null)
        case boost
            set names (command strap $root boost list --bare 2>/dev/null)
        case boost-catalog
            set names (command strap $root boost install --list --bare 2>/dev/null)
    end
    set -l descr (string replace selectable version $context[1])
    for name in $names
        printf '%s\t%s\n' $name $descr
    end
end

complete -c strap -n '__strap_name_context >/dev/null' -f -a '(__strap_names)'
