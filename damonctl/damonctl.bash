# bash completion for damonctl: commands, their options, and the names of
# damond's contexts and apps (asked of damond itself).
_damonctl() {
    local cur prev cmd i
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    cmd=
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            --json) ;;
            -*) ;;
            *) cmd=${COMP_WORDS[i]}; break ;;
        esac
    done
    local commands="status show pause resume remove create commit reload snapshot heatmap watch app hold import-damo export-damo metrics history report"
    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "$commands --json --help --version" -- "$cur"))
        return
    fi
    case $prev in
        --format) COMPREPLY=($(compgen -W "openmetrics prometheus" -- "$cur")); return ;;
        --svg|--spec|--html) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --mode) COMPREPLY=($(compgen -W "access age" -- "$cur")); return ;;
        --context) COMPREPLY=($(compgen -W "$(damonctl complete contexts 2>/dev/null)" -- "$cur")); return ;;
        --for|--every|--rows|--columns|--range|--target|--name|--why|--pid|--count|--foreground-profile|--background-profile) return ;;
    esac
    case $cmd in
        status)
            COMPREPLY=($(compgen -W "--cgroups --json" -- "$cur")) ;;
        show|pause|resume|remove|snapshot)
            COMPREPLY=($(compgen -W "$(damonctl complete contexts 2>/dev/null) --json" -- "$cur")) ;;
        history)
            COMPREPLY=($(compgen -W "$(damonctl complete contexts 2>/dev/null) --columns --svg --json" -- "$cur")) ;;
        report)
            COMPREPLY=($(compgen -W "$(damonctl complete contexts 2>/dev/null) --html --for --json" -- "$cur")) ;;
        heatmap)
            COMPREPLY=($(compgen -W "$(damonctl complete contexts 2>/dev/null) --for --every --rows --columns --mode --range --target --svg --no-color --json" -- "$cur")) ;;
        commit)
            if [[ $((COMP_CWORD - i)) -eq 1 ]]; then
                COMPREPLY=($(compgen -W "$(damonctl complete contexts 2>/dev/null)" -- "$cur"))
            else
                COMPREPLY=($(compgen -f -- "$cur"))
            fi ;;
        export-damo)
            COMPREPLY=($(compgen -W "$(damonctl complete contexts 2>/dev/null) --raw --spec" -- "$cur")) ;;
        import-damo)
            COMPREPLY=($(compgen -f -W "--name --dry-run --raw --human --json" -- "$cur")) ;;
        create)
            COMPREPLY=($(compgen -f -- "$cur")) ;;
        watch)
            COMPREPLY=($(compgen -W "--count --json" -- "$cur")) ;;
        metrics)
            COMPREPLY=($(compgen -W "--format" -- "$cur")) ;;
        hold)
            COMPREPLY=($(compgen -W "--context --why --" -- "$cur")) ;;
        app)
            local verb=${COMP_WORDS[i+1]}
            if [[ $((COMP_CWORD - i)) -eq 1 ]]; then
                COMPREPLY=($(compgen -W "list show register foreground background unregister" -- "$cur"))
            elif [[ $verb == foreground || $verb == background || $verb == unregister ]]; then
                COMPREPLY=($(compgen -W "$(damonctl complete apps 2>/dev/null) --pid" -- "$cur"))
            fi ;;
    esac
}
complete -F _damonctl damonctl
